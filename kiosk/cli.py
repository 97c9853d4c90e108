"""The ``python -m kiosk`` command line. Each sub-command is one function; exit codes are stable."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from kiosk import __version__
from kiosk.errors import ExitCode, KioskError

log = logging.getLogger("kiosk")

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(verbose: bool = False, log_file: Path | None = None) -> None:
    """Configure logging once, in the entry point (stderr; journald captures it on the device)."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format=LOG_FORMAT, handlers=handlers, force=True
    )


def _config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", type=Path, default=None, help="configuration file (default: the repository's config.toml)"
    )


# --- commands ----------------------------------------------------------------------------------


def cmd_config_check(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from kiosk.errors import ConfigError

    try:
        load_config(args.config)
    except ConfigError as exc:
        for loc, msg in exc.problems:
            print(f"{exc.path}: {loc}: {msg}" if loc else f"{exc.path}: {msg}")
        return ExitCode.CONFIG
    print("OK")
    return ExitCode.OK


def cmd_consent_preview(args: argparse.Namespace) -> int:
    from kiosk.config import consent_terms, load_config
    from kiosk.core.consent import ConsentKind, compose

    cfg = load_config(args.config)
    doc = compose(consent_terms(cfg), ConsentKind(args.kind), args.lang)
    print(doc.text)
    print()
    print(f"[version {doc.version}, sha256 {doc.sha256}]")
    print("[the printed copy adds: the customer's name, masked phone, consent id, times sent and confirmed]")
    return ExitCode.OK


def cmd_rules_preview(args: argparse.Namespace) -> int:
    from kiosk.config import load_config, program_rules
    from kiosk.core.program import rules_document

    cfg = load_config(args.config)
    print(rules_document(program_rules(cfg), args.lang))
    return ExitCode.OK


def cmd_selftest(args: argparse.Namespace) -> int:
    from kiosk.selftest import run_selftest

    rows = run_selftest(args.config)
    width = max(len(r.name) for r in rows)
    for row in rows:
        print(f"{row.name:<{width}}  {row.status:<4}  {row.detail}")
    return ExitCode.OK if all(r.status != "FAIL" for r in rows) else ExitCode.FAILURE


def cmd_walkthrough(args: argparse.Namespace) -> int:
    from kiosk.walkthrough import walkthrough

    return walkthrough(args.config, args.lang)


def cmd_print_test(args: argparse.Namespace) -> int:
    """Print a receipt on the configured printer; on the simulator write ``.bin`` and ``.png``."""
    from kiosk.config import load_config
    from kiosk.printing import sample_job

    cfg = load_config(args.config)
    job = sample_job(cfg, args.receipt, args.lang, time.time())
    pcfg = cfg.hardware.printer
    if pcfg.backend == "sim":
        from kiosk.hw.printer.render import render, save_png
        from kiosk.hw.printer.sim import PAPER_DOTS

        out = args.out or cfg.state_dir / "print-test"
        out.mkdir(parents=True, exist_ok=True)
        bin_path, png_path = out / f"{job.kind}.bin", out / f"{job.kind}.png"
        bin_path.write_bytes(job.data)
        save_png(render(job.data, paper_dots=PAPER_DOTS[pcfg.paper_mm]), png_path)
        print(bin_path)
        print(png_path)
        return ExitCode.OK
    from kiosk.hw.printer import PrinterFault, make_printer

    printer = make_printer(pcfg)
    try:
        printer.send(job.data)
    except PrinterFault as exc:
        print(f"error: {exc} (status: {printer.status().value})", file=sys.stderr)
        return ExitCode.HARDWARE
    finally:
        printer.close()
    print(f"printed {job.kind} ({len(job.data)} bytes) on {pcfg.backend}")
    return ExitCode.OK


def cmd_scan_image(args: argparse.Namespace) -> int:
    """Decode image files: ``FILE<TAB>TEXT`` per file (card number or rejection reason), ``-`` for nothing."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    from kiosk.config import load_config
    from kiosk.core import cards
    from kiosk.hw.scanner.decode import make_decoder
    from kiosk.keys import load_keys

    decoder = make_decoder(args.decoder)
    mac_key = b"" if args.raw else load_keys(load_config(args.config)).card_mac
    for file in args.files:
        try:
            with Image.open(file) as img:
                grey = np.asarray(img.convert("L"))
        except (OSError, UnidentifiedImageError) as exc:
            print(f"{file}\t-")
            log.warning("%s: cannot read the image: %s", file, exc)
            continue
        found = decoder.decode(grey)
        if not found:
            print(f"{file}\t-")
        elif args.raw:
            print(f"{file}\t{found[0].text}")
        else:
            # the QR is the authenticated channel: its verdict (card or rejection) wins over a barcode's
            first = sorted(found, key=lambda d: d.format != "qr")[0]
            result = cards.parse_scan(first.text, mac_key)
            text = result.card if isinstance(result, cards.CardScan) else result.reason.value
            print(f"{file}\t{text}")
    return ExitCode.OK


def cmd_provision(args: argparse.Namespace) -> int:
    """Install a provisioning bundle (identity, configuration, secrets) made by head office."""
    from kiosk.provision import BOOT_BUNDLE, provision

    if args.from_boot:
        bundle_path = args.bundle or BOOT_BUNDLE
    elif args.bundle is None:
        print("error: give a BUNDLE or --from-boot", file=sys.stderr)
        return ExitCode.PROVISIONING
    else:
        bundle_path = args.bundle
    result = provision(bundle_path, root=args.root, erase_bundle=args.from_boot)
    print(f"provisioned kiosk {result.kiosk_id} (number {result.kiosk_number})")
    return ExitCode.OK


def cmd_run(args: argparse.Namespace) -> int:
    """Run the kiosk: the touchscreen when a display exists, otherwise the headless demo into out/demo.

    With a development configuration a local broker and head office run beside it (see devstack).
    """
    from kiosk.app import display_available

    if not display_available():
        import json

        from kiosk.demo import run_demo

        out = Path("out/demo")
        result = run_demo(out, with_hq=True)
        print(
            json.dumps({k: result.get(k) for k in ("outcome", "card_number", "hq_registrations")}, ensure_ascii=False)
        )
        print(f"no display found: ran the demo instead; its pictures are in {out.resolve() / 'screens'}")
        if "hq_registrations" in result:
            print(f"head office stored the sign-up: {result['hq_registrations']} registration(s) in its database")
        return ExitCode.OK
    from kiosk.app import run, run_not_set_up
    from kiosk.config import load_config
    from kiosk.devstack import start_devstack
    from kiosk.errors import ConfigError

    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        details = str(exc).splitlines()
        refused = _provision_error()
        return run_not_set_up("setup.provision" if refused else "setup.config", refused + details)
    stack = start_devstack(cfg)
    try:
        return run(cfg, lang=args.lang)
    finally:
        if stack is not None:
            stack.stop()


def _provision_error() -> list[str]:
    """The lines of a refused provisioning bundle's error file, if there is one."""
    from kiosk.provision import ERROR_FILE

    try:
        return (Path("/") / ERROR_FILE).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    try:
        return int(w), int(h)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}") from None


def cmd_demo(args: argparse.Namespace) -> int:
    """The real kiosk, headless, with simulated hardware and a virtual customer."""
    import json

    from kiosk.demo import run_demo

    script = json.loads(Path(args.script).read_text(encoding="utf-8")) if args.script else None
    result = run_demo(Path(args.out), size=args.size, lang=getattr(args, "demo_lang", None), script=script)
    print(json.dumps({k: result[k] for k in ("outcome", "reason", "card_number", "consent_ids")}, ensure_ascii=False))
    print(f"screens: {Path(args.out).resolve() / 'screens'}")
    return ExitCode.OK if result["outcome"] in ("registered", "abandoned", "rejected") else ExitCode.FAILURE


def cmd_screenshots(args: argparse.Namespace) -> int:
    """Every screen at every supported size in both languages, as PNG files."""
    from kiosk.screens.screenshots import render_all

    records = render_all(Path(args.out))
    bad = [r for r in records if r["overflows"] or r["small_targets"]]
    for r in bad:
        print(f"{r['size']} {r['lang']} {r['state']}: {r['overflows']} {r['small_targets']}")
    print(f"{len(records)} screenshots in {Path(args.out).resolve()}")
    return ExitCode.OK if not bad else ExitCode.FAILURE


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
    "run": (cmd_run, "run the kiosk"),
    "demo": (cmd_demo, "run the kiosk headless with a virtual customer; pictures and receipts go to --out"),
    "screenshots": (cmd_screenshots, "render every screen at every size in both languages into --out"),
    "config-check": (cmd_config_check, "validate a configuration file"),
    "consent-preview": (cmd_consent_preview, "print the consent document for review"),
    "rules-preview": (cmd_rules_preview, "print the loyalty-programme rules document"),
    "selftest": (cmd_selftest, "check configuration, store, keys and devices"),
    "walkthrough": (cmd_walkthrough, "a text walk-through of a sign-up on simulated inputs"),
    "print-test": (cmd_print_test, "print a card, consent, rules or test receipt"),
    "scan-image": (cmd_scan_image, "decode card codes in image files"),
    "provision": (cmd_provision, "install a provisioning bundle from head office"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="Loyalty-programme self-registration kiosk")
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        _config_arg(p)
        if name in ("consent-preview", "rules-preview", "walkthrough", "run", "print-test"):
            p.add_argument("--lang", choices=("ru", "en"), default="ru")
        if name == "scan-image":
            p.add_argument("--raw", action="store_true", help="print the decoded text as it is")
            p.add_argument("--decoder", choices=("zxing", "zbar"), default="zxing")
            p.add_argument("files", nargs="+", type=Path)
        if name == "print-test":
            p.add_argument("--receipt", choices=("card", "consent", "rules", "test"), default="test")
            p.add_argument("--out", type=Path, default=None, help="simulator: folder for the .bin and .png")
        if name == "demo":
            p.add_argument("--out", type=Path, default=Path("out/demo"))
            p.add_argument("--size", type=_size, default=None, help="WIDTHxHEIGHT, e.g. 800x480")
            p.add_argument("--lang", dest="demo_lang", choices=("ru", "en"), default=None)
            p.add_argument("--script", type=Path, default=None, help="JSON customer")
        if name == "screenshots":
            p.add_argument("--out", type=Path, default=Path("out/screenshots"))
        if name == "provision":
            p.add_argument("bundle", nargs="?", type=Path, help="the bundle (.tar.gz)")
            p.add_argument(
                "--from-boot",
                action="store_true",
                help="use the bundle on the boot partition (or BUNDLE) and erase it once installed",
            )
            p.add_argument("--root", type=Path, default=Path("/"), help="install under this root (default /)")
        if name == "consent-preview":
            p.add_argument("--kind", choices=("processing", "advertising"), default="processing")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    func = COMMANDS[args.command][0]
    try:
        return int(func(args))
    except KioskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        return ExitCode.OK


def disk_free_mb(path: Path) -> float:
    probe = path
    while not probe.exists():
        probe = probe.parent
    return shutil.disk_usage(probe).free / 1e6


def now() -> float:
    return time.time()
