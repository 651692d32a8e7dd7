"""Bot API methods that send files: sendPhoto, sendDocument, ... and sendMediaGroup."""

from __future__ import annotations

import logging

from .entities import utf16_len
from .errors import bad_request
from .files import StoredFile
from .formatting import format_text
from .media import MEDIA_KINDS, media_object
from .messaging import CAPTION_LIMIT, Handler, formatted, send_bot_message, with_text
from .objects import JSONDict
from .params import Params, Upload
from .state import World

logger = logging.getLogger(__name__)


def _stored_file(world: World, kind: str, source: Upload | str | None) -> StoredFile:
    if isinstance(source, Upload):
        mime = source.content_type
        if mime in (None, "", "application/octet-stream"):
            mime = None
        if kind not in ("document", "audio", "video", "animation"):
            return world.files.add(source.data, kind)
        return world.files.add(source.data, kind, file_name=source.filename, mime_type=mime)
    if isinstance(source, str) and source:
        if source.startswith(("http://", "https://")):
            return world.files.add(b"", kind, file_name=source.rsplit("/", 1)[-1] or None)
        stored = world.files.get(source)
        if stored is not None:
            return stored
        raise bad_request("wrong file identifier/HTTP URL specified")
    raise bad_request(f"there is no {kind} in the request")


def _media_sender(kind: str) -> Handler:
    async def send_media(world: World, params: Params) -> JSONDict:
        record = world.resolve_chat(params.get("chat_id"))
        stored = _stored_file(world, kind, params.upload(kind))
        media = media_object(
            world.files,
            kind,
            stored,
            duration=params.int("duration"),
            emoji=params.text("emoji"),
        )
        content: JSONDict = {kind: media}
        if kind != "sticker":
            caption, entities = formatted(world, params, "caption", required=False)
            with_text(content, "caption", caption, entities)
        return send_bot_message(world, record, params, content)

    send_media.__name__ = f"send_{kind}"
    return send_media


def _album_item(world: World, params: Params, item: object) -> tuple[str, Upload | str, JSONDict]:
    """Check one InputMedia of an album: its kind, its file and its formatted caption."""
    kind = item.get("type") if isinstance(item, dict) else None
    if not isinstance(item, dict) or kind not in ("photo", "video", "document", "audio"):
        raise bad_request("wrong media type specified")
    source = params.file_ref(item.get("media"))
    if source is None or (
        isinstance(source, str)
        and not source.startswith("http")
        and world.files.get(source) is None
    ):
        raise bad_request("wrong file identifier/HTTP URL specified")
    caption, entities = format_text(
        item.get("caption") or "",
        item.get("parse_mode"),
        item.get("caption_entities"),
        world.users,
    )
    if utf16_len(caption) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    return str(kind), source, with_text({}, "caption", caption, entities)


async def send_media_group(world: World, params: Params) -> list[JSONDict]:
    """An album: 2-10 messages sharing a media_group_id; all checked before any is sent."""
    record = world.resolve_chat(params.get("chat_id"))
    items = params.get("media")
    if not isinstance(items, list) or not 2 <= len(items) <= 10:
        raise bad_request("wrong number of media specified: 2-10 are allowed")
    checked = [_album_item(world, params, item) for item in items]
    group_id = str(13_000_000_000_000_000 + len(world.calls))
    sent = []
    for kind, source, content in checked:
        stored = _stored_file(world, kind, source)
        content.update({"media_group_id": group_id, kind: media_object(world.files, kind, stored)})
        sent.append(send_bot_message(world, record, params, content))
    return sent


METHODS: dict[str, Handler] = {
    "sendmediagroup": send_media_group,
    **{f"send{kind.replace('_', '')}": _media_sender(kind) for kind in MEDIA_KINDS},
}
