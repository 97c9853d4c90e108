"""``python -m hq``: the reference head office.

    python -m hq keygen DIR
    python -m hq serve --db URL --broker HOST:PORT --keys DIR --program FILE [--tls --ca F --cert F --key F]
    python -m hq publish-config FILE --keys DIR --broker HOST:PORT [--kiosk ID ...] [--tls ...]
    python -m hq purchase CARD AMOUNT [--excluded RUB] --db URL --program FILE
    python -m hq withdraw CARD --db URL
    python -m hq export-consents --db URL [--out FILE]

The database URL is ``sqlite:///path`` (default ``sqlite:///hq.db``) or ``postgresql+psycopg://...``.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from hq import db, records
from hq.keys import KeysError, keygen, load_keys
from hq.service import BrokerOptions
from hq.settings import load_settings
from kiosk.errors import ConfigError

log = logging.getLogger("hq")

EXIT_OK, EXIT_USAGE, EXIT_CONFIG, EXIT_NOT_FOUND, EXIT_FAILED = 0, 2, 3, 4, 1


def _broker_arg(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError("expected HOST:PORT")
    return host, int(port)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m hq", description="Reference head-office service for the kiosks.")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    dbp = argparse.ArgumentParser(add_help=False)
    dbp.add_argument("--db", default=os.environ.get("HQ_DB", "sqlite:///hq.db"), help="database URL")

    brk = argparse.ArgumentParser(add_help=False)
    brk.add_argument("--broker", type=_broker_arg, default=("127.0.0.1", 1883), help="HOST:PORT")
    brk.add_argument("--tls", action="store_true", help="connect with TLS and a client certificate")
    brk.add_argument("--ca", help="CA certificate file (TLS)")
    brk.add_argument("--cert", help="client certificate file (TLS)")
    brk.add_argument("--key", help="client key file (TLS)")
    brk.add_argument("--client-id", default="hq-1", help="MQTT client id (hq-<n>: one per instance)")
    brk.add_argument("--prefix", default="loyalty/v1", help="topic prefix")

    k = sub.add_parser("keygen", help="create head office's key pairs")
    k.add_argument("dir", type=Path)
    k.add_argument("--force", action="store_true", help="replace existing keys")

    s = sub.add_parser("serve", parents=[dbp, brk], help="run the service")
    s.add_argument("--keys", type=Path, required=True)
    s.add_argument("--program", type=Path, required=True, help="head office's config TOML")

    pc = sub.add_parser("publish-config", parents=[brk], help="sign and publish a configuration")
    pc.add_argument("file", type=Path)
    pc.add_argument("--keys", type=Path, required=True)
    pc.add_argument("--kiosk", action="append", default=[], help="kiosk id (repeatable); default: the file's list")

    pu = sub.add_parser("purchase", parents=[dbp], help="post a purchase to a card")
    pu.add_argument("card")
    pu.add_argument("amount", help="bill in roubles")
    pu.add_argument("--excluded", default="0", help="roubles of the bill that earn nothing")
    pu.add_argument("--program", type=Path, required=True)

    w = sub.add_parser("withdraw", parents=[dbp], help="withdraw consent: block the card, destroy personal data")
    w.add_argument("card")

    mb = sub.add_parser("make-bundle", help="write a kiosk's provisioning bundle (identity, config, secrets)")
    mb.add_argument("kiosk_id")
    mb.add_argument("kiosk_number", type=int)
    mb.add_argument("--store-config", type=Path, required=True, help="the store's config.toml for this kiosk")
    mb.add_argument("--keys", type=Path, required=True, help="head office's keys folder")
    mb.add_argument("--ca-cert", type=Path, required=True, help="CA certificate that signs kiosk certificates")
    mb.add_argument("--ca-key", type=Path, required=True, help="the CA's private key")
    mb.add_argument("--mqtt", type=_broker_arg, required=True, help="the broker the kiosk connects to, HOST:PORT")
    mb.add_argument("--ssh-keys", type=Path, help="authorized_keys for field service (SSH stays off without it)")
    mb.add_argument("--days", type=int, default=825, help="validity of the kiosk's certificate")
    mb.add_argument("--out", type=Path, required=True, help="bundle file to write (.tar.gz)")

    e = sub.add_parser("export-consents", parents=[dbp], help="consent records as JSON lines")
    e.add_argument("--out", type=Path, help="file to write (default: standard output)")
    return p


def _broker_options(args: argparse.Namespace) -> BrokerOptions:
    host, port = args.broker
    if args.tls and not args.ca:
        raise ConfigError("command line", [("--ca", "--tls needs --ca")])
    return BrokerOptions(
        host=host,
        port=port,
        client_id=args.client_id,
        tls=args.tls,
        ca_file=args.ca,
        cert_file=args.cert,
        key_file=args.key,
    )


def _serve(args: argparse.Namespace) -> int:
    from hq.rpc import RpcHandler
    from hq.service import HqService

    settings = load_settings(args.program)
    keys = load_keys(args.keys)
    engine = db.connect(args.db)
    service = HqService(engine, keys, RpcHandler(engine, keys, settings), _broker_options(args), prefix=args.prefix)

    def _term(_sig: int, _frame: object) -> None:
        service._stop.set()

    signal.signal(signal.SIGTERM, _term)
    signal.signal(signal.SIGINT, _term)
    log.info("head office serving on %s:%d", *args.broker)
    service.run_forever()
    return EXIT_OK


def _publish(args: argparse.Namespace) -> int:
    from hq.service import publish_config

    settings = load_settings(args.file)
    kiosks = args.kiosk or list(settings.kiosks)
    if not kiosks:
        raise ConfigError(str(args.file), [("kiosks", "no kiosks listed (and no --kiosk given)")])
    document = {"version": settings.version, "config": settings.sections}
    publish_config(_broker_options(args), document, load_keys(args.keys), kiosks, prefix=args.prefix)
    print(f"published configuration version {settings.version} to {len(kiosks)} kiosk(s)")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        if args.command == "keygen":
            keygen(args.dir, overwrite=args.force)
            print(f"keys written to {args.dir} (give kiosks hq_seal.pub and hq_sign.pub)")
            return EXIT_OK
        if args.command == "serve":
            return _serve(args)
        if args.command == "publish-config":
            return _publish(args)
        if args.command == "make-bundle":
            from hq.bundle import make_bundle

            host, port = args.mqtt
            path = make_bundle(
                args.kiosk_id,
                args.kiosk_number,
                store_config=args.store_config,
                hq_keys_dir=args.keys,
                ca_cert=args.ca_cert,
                ca_key=args.ca_key,
                mqtt_host=host,
                mqtt_port=port,
                authorized_keys=args.ssh_keys,
                out=args.out,
                cert_days=args.days,
            )
            print(
                f"bundle for {args.kiosk_id} written to {path} (copy it to the boot partition as kiosk-provision.tar.gz)"
            )
            return EXIT_OK
        engine = db.connect(args.db)
        if args.command == "purchase":
            settings = load_settings(args.program)
            posted = records.purchase(engine, settings.rules, args.card, args.amount, args.excluded)
            print(f"{posted.card}: +{posted.points} points, active from {posted.active_from:.0f}")
            return EXIT_OK
        if args.command == "withdraw":
            records.withdraw(engine, args.card)
            print(f"{args.card}: consent withdrawn, card blocked, personal data destroyed")
            return EXIT_OK
        if args.command == "export-consents":
            out = args.out.open("w", encoding="utf-8") if args.out else sys.stdout
            try:
                for line in records.export_consents(engine):
                    out.write(line + "\n")
            finally:
                if args.out:
                    out.close()
            return EXIT_OK
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    except (KeysError, FileExistsError) as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    except records.UnknownCard as exc:
        print(f"unknown card: {exc}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except (ValueError, ArithmeticError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
