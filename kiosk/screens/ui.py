"""The kiosk's frame loop and the customer's journey through the screens.

The loop reacts to touch (``FINGER*`` events, normalised coordinates) and to the mouse alike,
redraws only when something changed, waits on events with a timeout when nothing does, and
never blocks on a device: SMS sending and balance lookups run on a small thread pool, the
printer on its own worker, the scanner on its own thread; their results are polled once per
loop iteration.
"""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import shutil
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pygame

from kiosk import config as kconfig
from kiosk.config import Config
from kiosk.core import cards, program
from kiosk.core.consent import ConsentKind
from kiosk.core.flow import EndReason, SignupSession, Step
from kiosk.core.validation import validate_form
from kiosk.errors import DiskFullError, StoreError
from kiosk.hw.sms import code_message
from kiosk.i18n import LANGS, catalog, t
from kiosk.lookup import Lookup
from kiosk.screens.base import Screen
from kiosk.screens.text import TextPainter
from kiosk.screens.theme import Theme, check_glyphs
from kiosk.screens.widgets import Ctx, Target, qr
from kiosk.screens.widgets.scroll import ScrollView
from kiosk.signup import CodeRejected, CodeToSend, SignupResult, SignupService

log = logging.getLogger(__name__)

WAKE_EVENT = pygame.event.custom_type()
POLL_S = 0.1
"""Longest sleep while nothing changes (device queues are checked at least this often)."""
TAP_SLOP_MM = 4.0


@dataclass
class Devices:
    """The hardware the screens talk to, built by the composition root (``kiosk.app``)."""

    sms: Any
    lookup: Lookup
    scanner: Any = None
    scanner_queue: queue.Queue[Any] | None = None
    print_worker: Any = None
    panel: Any = None
    panel_queue: queue.Queue[Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class PrintState:
    jobs: list[str] = field(default_factory=list)
    done: set[str] = field(default_factory=set)
    held: str | None = None
    personal: list[str] = field(default_factory=list)
    """Jobs that carry the customer's personal data (consent copies): never printed after they leave."""


class KioskUI:
    def __init__(
        self,
        cfg: Config,
        service: SignupService,
        devices: Devices,
        *,
        clock: Callable[[], float] = time.time,
        size: tuple[int, int] | None = None,
        diagonal_in: float | None = None,
        lang: str | None = None,
        fullscreen: bool | None = None,
    ) -> None:
        self.cfg = cfg
        self.service = service
        self.devices = devices
        self.clock = clock
        disp = cfg.hardware.display
        self.fps = disp.fps
        self.idle_sleep_s = min(POLL_S, 1.0 / disp.fps)
        self.default_lang = lang or cfg.kiosk.language
        self.lang = self.default_lang
        self.rules = kconfig.program_rules(cfg)
        self.on_frame: Callable[[], None] | None = None
        self.on_first_frame: Callable[[], None] | None = None
        self.frames = 0
        self.running = False
        self.dirty = True
        self.session: SignupSession | None = None
        self.result: SignupResult | None = None
        self.printing = PrintState()
        self.balance: Any = None
        self.overlay: str | None = None
        self.toast: tuple[str, float] | None = None
        self.dimmed = False
        self.fault: str | None = None
        self.scanner_ok = True
        self.last_input = clock()
        self.targets: list[Target] = []
        self.scrollers: list[ScrollView] = []
        self.views: list[str] = []
        self._pressed: Target | None = None
        self._drag: ScrollView | None = None
        self._down_at: tuple[float, float] | None = None
        self._last_pos: tuple[float, float] = (0, 0)
        self._moved = False
        self._pending: list[tuple[Future[Any], Callable[[Any, BaseException | None], None]]] = []
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kiosk-io")
        self._frame_clock = pygame.time.Clock()
        self._idle_shown_s: int | None = None
        self._storage_checked = 0.0
        self._pending_config: Config | None = None

        pygame.display.init()
        pygame.font.init()
        width, height = size or (disp.width, disp.height)
        self._fullscreen = disp.fullscreen if fullscreen is None else fullscreen
        self.surface = self._set_mode(width, height)
        self.theme = Theme(width, height, diagonal_in or disp.diagonal_in)
        self.painter = TextPainter(self.theme)
        check_glyphs(self.texts_to_check())
        pygame.mouse.set_visible(not self._fullscreen)

        from kiosk.screens.registry import build_screens

        self.screens: dict[str, Screen] = build_screens(self)
        self.current: Screen = self.screens["attract"]
        self._set_scanning(True)

    # --- set-up ------------------------------------------------------------------------------

    def _set_mode(self, width: int, height: int) -> pygame.Surface:
        flags = pygame.FULLSCREEN if self._fullscreen else 0
        surface = pygame.display.set_mode((width, height), flags)
        pygame.display.set_caption(t(self.default_lang, "attract.join"))
        return surface

    def resize(self, width: int, height: int, diagonal_in: float) -> None:
        """Lay the screens out for another display size (used by the screenshots and the layout test)."""
        self.surface = self._set_mode(width, height)
        self.theme = Theme(width, height, diagonal_in)
        self.painter = TextPainter(self.theme)
        self.dirty = True

    def texts_to_check(self) -> list[tuple[str, str]]:
        """Every text the screens may show: the catalogs and the documents composed from the config."""
        out: list[tuple[str, str]] = []
        for lang in LANGS:
            out += [(f"{lang}:{k}", v) for k, v in catalog(lang).items()]
            out.append((f"{lang}:program.pitch", program.pitch(self.rules, lang)))
            out += [(f"{lang}:program.summary", line) for line in program.summary_lines(self.rules, lang)]
            out.append((f"{lang}:program.rules", program.rules_document(self.rules, lang)))
            for kind in ConsentKind:
                out.append((f"{lang}:consent.{kind.value}", self.service.document(kind, lang).text))
            out.append((f"{lang}:kiosk.store_name", self.cfg.kiosk.store_name.get(lang)))
            out.append(("operator.contact", self.cfg.operator.contact))
        return out

    def t(self, key: str, **values: object) -> str:
        return t(self.lang, key, **values)

    # --- navigation --------------------------------------------------------------------------

    def go(self, name: str) -> None:
        self.current = self.screens[name]
        self.current.enter()
        self.overlay = None
        self._pressed = None
        self._drag = None
        self.dirty = True
        self._set_scanning(name == "attract")
        log.debug("screen %s", name)

    def _set_scanning(self, on: bool) -> None:
        scanner = self.devices.scanner
        if scanner is None:
            return
        try:
            scanner.resume() if on else scanner.pause()
        except Exception:  # a device problem must not stop the screens
            log.exception("scanner pause/resume failed")

    def toggle_lang(self) -> None:
        self.lang = "en" if self.lang == "ru" else "ru"
        self.dirty = True

    def wipe(self) -> None:
        """Forget every trace of the customer in the screens, in rendered text and in the print queue."""
        self.drop_personal_print_jobs()
        for screen in self.screens.values():
            screen.clear()
        self.result = None
        self.balance = None
        self.printing = PrintState()
        self.painter.forget()
        qr.forget()
        self.targets = []
        self.scrollers = []

    def end_session(self, reason: EndReason) -> None:
        if self.session is not None:
            self.session.end(reason)
            log.info("session ended: %s", reason.value)
        self.session = None
        self.wipe()

    def home(self) -> None:
        """Back to the attract screen in the kiosk's default language."""
        self.lang = self.default_lang
        self.go("attract")

    def cancel(self) -> None:
        self.end_session(EndReason.ABANDONED)
        self.home()

    def finish(self) -> None:
        """The customer is done with the card or balance screen."""
        self.end_session(EndReason.REGISTERED)
        self.home()

    def out_of_service(self, exc: BaseException) -> None:
        log.error("out of service: %s", exc)
        self.fault = type(exc).__name__
        if self.session is not None:
            self.end_session(EndReason.ABANDONED)
        self.wipe()
        self.go("out_of_service")
        self._status_led("fault")

    # --- the sign-up -------------------------------------------------------------------------

    def start_signup(self) -> None:
        if self.session is not None:
            self.end_session(EndReason.ABANDONED)
        if not self.storage_ok():
            self.out_of_service(DiskFullError(f"{self.cfg.state_dir}: less than {self.cfg.paths.min_free_mb} MB free"))
            return
        self.session = self.service.start()
        self.go("rules")

    def accept_rules(self) -> None:
        assert self.session is not None
        self.session.accept_rules(self.clock())
        self.go("form")

    def back_to_rules(self) -> None:
        assert self.session is not None
        self.session.back(self.clock())
        self.go("rules")

    def check_field(self, values: dict[str, str], name: str) -> str | None:
        """The reason code for one field of the form as it stands (pure rules, nothing stored)."""
        assert self.session is not None
        result = validate_form(values, self.session.rules, date.fromtimestamp(self.clock()))
        if isinstance(result, dict):
            for f, rejection in result.items():
                if f.value == name:
                    return rejection.reason.value
        return None

    def submit_form(self, values: dict[str, str]) -> dict[str, str]:
        assert self.session is not None
        try:
            errors = self.service.submit_form(self.session, values)
        except StoreError as exc:
            self.out_of_service(exc)
            return {}
        if not errors:
            self.go("consent")
        return errors

    def consent_shown(self) -> None:
        if self.session is not None and self.session.step is Step.CONSENT:
            self.session.show_consent(self.clock())

    def give_consent(self, processing: bool, ads: bool) -> bool:
        assert self.session is not None
        if not self.session.give_consent(processing, ads, self.clock(), self.lang):
            return False
        self.go("code")
        self.send_code()
        return True

    def change_number(self) -> None:
        assert self.session is not None
        self.session.back(self.clock())
        self.screens["code"].clear()
        self.go("form")
        self.screens["form"].focus_field("phone")  # type: ignore[attr-defined]

    def send_code(self) -> None:
        """Issue a code (fast, on this thread) and send it by SMS on the pool."""
        session = self.session
        code_screen = self.screens["code"]
        if session is None or session.step is not Step.CODE:
            return
        try:
            issued = self.service.prepare_code(session)
        except StoreError as exc:
            self.out_of_service(exc)
            return
        if not isinstance(issued, CodeToSend):
            code_screen.refused(issued)  # type: ignore[attr-defined]
            self.dirty = True
            return
        text = code_message(self.lang, issued.code, self.cfg.kiosk.store_name.get(self.lang))
        code_screen.sending()  # type: ignore[attr-defined]
        self.submit(lambda: self.devices.sms.send(issued.phone, text), code_screen.sent)  # type: ignore[attr-defined]

    def confirm_code(self, entered: str) -> None:
        session = self.session
        if session is None or session.step is not Step.CODE:
            return
        try:
            outcome = self.service.confirm_code(session, entered, self.lang)
        except StoreError as exc:
            self.out_of_service(exc)
            return
        if isinstance(outcome, CodeRejected):
            if outcome.ended:
                self.end_session(EndReason.ATTEMPTS_EXHAUSTED)
            self.screens["code"].rejected(outcome)  # type: ignore[attr-defined]
            self.dirty = True
            return
        session.end(EndReason.REGISTERED)  # wipes the typed values; the result holds what the screens show
        self.session = None
        self.screens["form"].clear()
        self.screens["code"].clear()
        self.result = outcome
        self.print_signup(outcome)
        self.go("done")

    def print_signup(self, result: SignupResult) -> None:
        worker = self.devices.print_worker
        self.printing = PrintState()
        if worker is None:
            return
        from kiosk.hw.printer import PrintJob
        from kiosk.hw.printer.worker import new_job_id
        from kiosk.printing import signup_jobs

        jobs = [PrintJob(new_job_id(), job.kind, job.data) for job in signup_jobs(self.cfg, result, self.lang)]
        for job in jobs:
            self.printing.jobs.append(job.job_id)
            if job.kind != "card":
                self.printing.personal.append(job.job_id)
            worker.submit(job)

    def drop_personal_print_jobs(self) -> None:
        """The customer has gone: a consent copy still waiting for paper must not print for the next one.

        The card receipt (card number and QR, no personal data) stays queued for staff.
        """
        worker = self.devices.print_worker
        waiting = [j for j in self.printing.personal if j not in self.printing.done]
        if worker is not None and waiting:
            dropped = worker.cancel(waiting)
            if dropped:
                log.warning("%d consent copies were not printed (the printer was not ready)", len(dropped))

    # --- balance -----------------------------------------------------------------------------

    def on_scan(self, event: Any) -> None:
        if self.current.name != "attract" or getattr(event, "ignored", False):
            return
        scan = event.result
        if not isinstance(scan, cards.CardScan):
            return
        self.note_input()
        self.balance = ("bare", None) if not scan.authenticated else ("loading", None)
        self.go("balance")
        if scan.authenticated:
            card = scan.card
            self.submit(lambda: self.devices.lookup.card(card), self._balance_ready)

    def _balance_ready(self, value: Any, error: BaseException | None) -> None:
        from kiosk.lookup import CardNotFound, LookupUnavailable

        if self.current.name != "balance":
            return
        if error is None:
            self.balance = ("ok", value)
        elif isinstance(error, CardNotFound):
            self.balance = ("not_found", None)
        elif isinstance(error, LookupUnavailable):
            self.balance = ("unavailable", None)
        else:
            log.error("balance lookup failed: %s", type(error).__name__)
            self.balance = ("unavailable", None)
        self.dirty = True

    # --- work off the loop -------------------------------------------------------------------

    def submit(self, fn: Callable[[], Any], done: Callable[[Any, BaseException | None], None]) -> Future[Any]:
        future = self.pool.submit(fn)
        future.add_done_callback(lambda _f: self._wake())
        self._pending.append((future, done))
        return future

    def _wake(self) -> None:
        with contextlib.suppress(pygame.error):
            pygame.event.post(pygame.event.Event(WAKE_EVENT))

    def _poll_futures(self) -> None:
        still: list[tuple[Future[Any], Callable[[Any, BaseException | None], None]]] = []
        for future, done in self._pending:
            if not future.done():
                still.append((future, done))
                continue
            error = future.exception()
            done(None if error is not None else future.result(), error)
            self.dirty = True
        self._pending = still

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def _poll_devices(self) -> None:
        sq = self.devices.scanner_queue
        while sq is not None:
            try:
                message = sq.get_nowait()
            except queue.Empty:
                break
            kind = type(message).__name__
            if kind == "ScanEvent":
                self.on_scan(message)
            elif kind == "ScannerFault":
                self.scanner_ok = False
                self.dirty = True
            elif kind == "ScannerRecovered":
                self.scanner_ok = True
                self.dirty = True
        worker = self.devices.print_worker
        if worker is not None:
            for ev in worker.poll_events():
                self._print_event(ev)
        pq = self.devices.panel_queue
        while pq is not None:
            try:
                pev = pq.get_nowait()
            except queue.Empty:
                break
            self._panel_event(str(pev))

    def _print_event(self, ev: Any) -> None:
        kind = type(ev).__name__
        job_id = getattr(ev, "job_id", None)
        if job_id not in self.printing.jobs:
            return
        if kind == "JobDone":
            self.printing.done.add(job_id)
            if self.printing.held == job_id:
                self.printing.held = None
            self.dirty = True
        elif kind == "JobHeld":
            self.printing.held = job_id
            log.warning("print job %s held: %s", job_id, ev.reason)
            if self.current.name == "done":
                self.go("printer_fault")
            self.dirty = True

    def _panel_event(self, name: str) -> None:
        if name == "motion":
            if self.dimmed:
                self.dimmed = False
                self.dirty = True
            self.last_input = self.clock()
        elif name == "call-pressed":
            self.toast = ("ui.staff_called", time.monotonic() + 5)
            self.dirty = True
            self._audit("staff_called", {})
        elif name == "call-held":
            # a member of staff holds the button: the call is answered, the call LED goes off
            panel = self.devices.panel
            if panel is not None:
                panel.call_acknowledged()
            self._audit("staff_answered", {})
        elif name in ("paper-low", "paper-ok"):
            log.warning("printer paper: %s", name)
            self._audit(name, {})
        elif name == "tamper-open":
            log.error("the enclosure was opened")
            self._audit("tamper_open", {})
            self._status_led("fault")
        elif name == "tamper-closed":
            log.warning("the enclosure is closed again")
            self._audit("tamper_closed", {})
            if self.current.name != "out_of_service":
                self._status_led("ready")

    def _audit(self, kind: str, detail: dict[str, Any]) -> None:
        """Record a staff or device event (no personal data); a full disk must not stop the screens."""
        try:
            self.service.store.audit(kind, detail, self.clock())
        except StoreError as exc:
            log.error("audit %s not recorded: %s", kind, exc)

    # --- input -------------------------------------------------------------------------------

    def note_input(self) -> None:
        now = self.clock()
        self.last_input = now
        if self.session is not None:
            self.session.touch(now)
        if self.overlay == "idle":
            self.overlay = None
        if self.dimmed:
            self.dimmed = False
        self.dirty = True

    def _target_at(self, pos: tuple[float, float]) -> Target | None:
        for target in reversed(self.targets):
            if target.rect.collidepoint(pos):
                return target
        return None

    def pointer_down(self, pos: tuple[float, float]) -> None:
        was_dimmed = self.dimmed
        self.note_input()
        self._down_at = pos
        self._last_pos = pos
        self._moved = False
        self._pressed = None if was_dimmed else self._target_at(pos)
        self._drag = next((s for s in self.scrollers if s.rect.collidepoint(pos)), None)

    def pointer_move(self, pos: tuple[float, float]) -> None:
        if self._down_at is None:
            return
        self.note_input()
        dy = pos[1] - self._last_pos[1]
        self._last_pos = pos
        if math.dist(pos, self._down_at) > TAP_SLOP_MM * self.theme.px_per_mm:
            self._moved = True
        if self._drag is not None and self._moved and self._drag.scroll_by(-round(dy)):
            self.dirty = True

    def pointer_up(self, pos: tuple[float, float]) -> None:
        if self._down_at is None:
            return
        self.note_input()
        target = self._pressed
        self._down_at = None
        self._pressed = None
        self._drag = None
        if (
            target is not None
            and not self._moved
            and target.enabled
            and target.rect.collidepoint(pos)
            and target.on_tap
        ):
            target.on_tap()
            self.dirty = True

    def handle(self, event: pygame.event.Event) -> None:
        w, h = self.surface.get_size()
        et = event.type
        if et == pygame.QUIT:
            self.running = False
        elif et == pygame.FINGERDOWN:
            self.pointer_down((event.x * w, event.y * h))
        elif et == pygame.FINGERMOTION:
            self.pointer_move((event.x * w, event.y * h))
        elif et == pygame.FINGERUP:
            self.pointer_up((event.x * w, event.y * h))
        elif getattr(event, "touch", False):
            return  # SDL's mouse copy of a touch: already handled as a finger
        elif et == pygame.MOUSEBUTTONDOWN and event.button == 1:
            self.pointer_down(event.pos)
        elif et == pygame.MOUSEMOTION and event.buttons[0]:
            self.pointer_move(event.pos)
        elif et == pygame.MOUSEBUTTONUP and event.button == 1:
            self.pointer_up(event.pos)
        elif et == pygame.MOUSEWHEEL:
            self.note_input()
            for s in self.scrollers:
                if s.scroll_by(-event.y * self.theme.text_size * 2):
                    self.dirty = True
        elif et in (pygame.WINDOWEXPOSED, pygame.VIDEOEXPOSE):
            self.dirty = True

    # --- time --------------------------------------------------------------------------------

    def _timers(self) -> None:
        now = self.clock()
        kc = self.cfg.kiosk
        timeout, warning = kc.idle_timeout_s, kc.idle_warning_s
        session = self.session
        if session is not None and self.current.in_session:
            if session.idle_expired(now, timeout, warning):
                log.info("idle timeout on %s", self.current.name)
                self.end_session(EndReason.IDLE_TIMEOUT)
                self.home()
                return
            if session.idle_warning_due(now, timeout):
                left = max(0, math.ceil(session.last_activity + timeout + warning - now))
                if self.overlay != "idle" or left != self._idle_shown_s:
                    self.overlay = "idle"
                    self._idle_shown_s = left
                    self.dirty = True
        elif self.current.name in ("done", "balance", "printer_fault") and now - self.last_input >= timeout:
            self.finish()
        elif self.current.in_session and session is None and now - self.last_input >= timeout:
            self.home()  # a code screen left showing "no attempts left"
        elif self.current.name == "attract" and not self.dimmed and now - self.last_input >= timeout:
            self.dimmed = True
            self.dirty = True
        if self.current.tick(now):
            self.dirty = True
        if self.toast is not None and time.monotonic() >= self.toast[1]:
            self.toast = None
            self.dirty = True
        self._check_storage()
        self._apply_pending_config()

    # --- configuration from head office ------------------------------------------------------

    def offer_config(self, cfg: Config) -> None:
        """A new configuration was accepted (any thread); it takes effect between customers."""
        self._pending_config = cfg

    def _apply_pending_config(self) -> None:
        new = self._pending_config
        if new is None or self.session is not None or self.current.name not in ("attract", "out_of_service"):
            return
        self._pending_config = None
        old_cfg, old_rules = self.cfg, self.rules
        self.cfg, self.rules = new, kconfig.program_rules(new)
        self.service.reconfigure(new)
        try:
            check_glyphs(self.texts_to_check())
        except Exception as exc:  # a text the font cannot draw: keep what works
            log.error("head office configuration not shown: %s", exc)
            self.cfg, self.rules = old_cfg, old_rules
            self.service.reconfigure(old_cfg)
            return
        self.default_lang = new.kiosk.language
        self.painter.forget()
        self.dirty = True
        log.info("new configuration in effect: consent %s", new.consent.version)

    # --- storage: no sign-up the kiosk cannot keep -------------------------------------------

    STORAGE_CHECK_S = 2.0

    def storage_ok(self) -> bool:
        """Enough free space in the state folder to record a sign-up (``paths.min_free_mb``)."""
        try:
            free = shutil.disk_usage(self.cfg.state_dir).free
        except OSError:
            return False
        return free >= self.cfg.paths.min_free_mb * 1_000_000

    def _check_storage(self) -> None:
        """Between customers: go out of service when the disk fills, and back when space returns."""
        now = time.monotonic()
        if now - self._storage_checked < self.STORAGE_CHECK_S:
            return
        self._storage_checked = now
        name = self.current.name
        if name == "attract" and not self.storage_ok():
            self.out_of_service(DiskFullError(f"{self.cfg.state_dir}: less than {self.cfg.paths.min_free_mb} MB free"))
        elif name == "out_of_service" and self.fault == "DiskFullError" and self.storage_ok():
            log.warning("storage has room again: back in service")
            self.fault = None
            self.home()
            self._status_led("ready")

    def _status_led(self, pattern: str) -> None:
        panel = self.devices.panel
        if panel is not None:
            try:
                panel.set_status(pattern)
            except Exception:
                log.exception("status LED")

    def idle_seconds_left(self) -> int:
        return self._idle_shown_s or 0

    # --- drawing -----------------------------------------------------------------------------

    def draw(self) -> None:
        self.painter.begin_frame()
        ctx = Ctx(self.surface, self.theme, self.painter, self.lang)
        self.surface.fill(self.theme.palette.bg)
        self.current.draw(ctx)
        from kiosk.screens import overlay

        if self.overlay == "idle":
            overlay.idle_warning(ctx, self)
        if self.toast is not None:
            overlay.toast(ctx, self.t(self.toast[0]))
        if self.dimmed:
            overlay.dim(ctx)
        self.targets = ctx.targets
        self.scrollers = ctx.scrollers
        view = self.current.view_id + (":idle" if self.overlay == "idle" else "")
        if not self.views or self.views[-1] != view:
            self.views.append(view)

    # --- the loop ----------------------------------------------------------------------------

    def step(self, *, wait: bool = False) -> bool:
        """One loop iteration; returns True when a frame was drawn."""
        events = pygame.event.get()
        if wait and not self.dirty and not events:
            # Nothing to do: sleep one frame period. (SDL's own wait with a timeout polls every
            # millisecond on the kmsdrm and dummy drivers, which costs far more CPU than this.)
            time.sleep(self.idle_sleep_s)
            events = pygame.event.get()
        for event in events:
            self.handle(event)
        self._poll_futures()
        self._poll_devices()
        self._timers()
        drew = False
        if self.dirty:
            self.dirty = False
            self.draw()
            pygame.display.flip()
            self.frames += 1
            drew = True
            if self.frames == 1 and self.on_first_frame is not None:
                self.on_first_frame()
        if self.on_frame is not None:
            self.on_frame()
        return drew

    def run(self) -> None:
        self.running = True
        while self.running:
            if self.step(wait=True):
                self._frame_clock.tick(self.fps)

    def close(self) -> None:
        self.running = False
        if self.session is not None:
            self.end_session(EndReason.ABANDONED)
        self.pool.shutdown(wait=False, cancel_futures=True)
