"""Run the reference node by hand: `python -m kiosk.refnode --port 8080 --room 123456:4321`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses

from kiosk.base.privacy import configure_logging
from kiosk.refnode.practitioner import PractitionerBot
from kiosk.refnode.room import RoomSpec
from kiosk.refnode.server import RefNode


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m kiosk.refnode", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--room",
        action="append",
        type=RoomSpec.parse,
        required=True,
        help="alias:host_pin[:guest_pin], repeatable",
    )
    parser.add_argument(
        "--direct-media",
        action="store_true",
        help="rooms pass SDP between host and guest instead of relaying media",
    )
    parser.add_argument("--waiting-timeout", type=float, default=900.0, metavar="SECONDS")
    parser.add_argument(
        "--bot-admit-after",
        type=float,
        default=None,
        metavar="SECONDS",
        help="start a practitioner bot in the first room that admits guests after this delay",
    )
    parser.add_argument(
        "--bot-video",
        type=_video_format,
        default=(640, 480, 15.0),
        metavar="WxH@FPS",
        help="what the practitioner bot's test pattern sends (default 640x480@15)",
    )
    return parser.parse_args(argv)


def _video_format(text: str) -> tuple[int, int, float]:
    try:
        size, fps = text.split("@")
        width, height = (int(part) for part in size.split("x"))
        rate = float(fps)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WxH@FPS such as 640x480@15, got {text!r}"
        ) from None
    if width <= 0 or height <= 0 or width % 2 or height % 2 or not 0 < rate <= 30:
        raise argparse.ArgumentTypeError(
            f"expected an even, positive size and a rate within (0, 30], got {text!r}"
        )
    return width, height, rate


async def _serve(args: argparse.Namespace) -> None:
    rooms = [dataclasses.replace(spec, direct_media=args.direct_media) for spec in args.room]
    node = RefNode(rooms, waiting_timeout_s=args.waiting_timeout)
    base_url = await node.start(args.host, args.port)
    print(f"reference node on {base_url}; practitioner page: {base_url}/practitioner", flush=True)
    bot = None
    if args.bot_admit_after is not None:
        spec = args.room[0]
        bot = PractitionerBot(
            base_url,
            spec.alias,
            spec.host_pin,
            admit_after_s=args.bot_admit_after,
            allowed_hosts=[args.host],
            video=args.bot_video,
        )
        await bot.start()
    try:
        await asyncio.Event().wait()
    finally:
        if bot is not None:
            await bot.leave()
        await node.stop()


def main(argv: list[str] | None = None) -> None:
    configure_logging()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(_args(argv)))


if __name__ == "__main__":
    main()
