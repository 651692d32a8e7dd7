"""`POST /cgi-bin/media/upload?type=` and `GET /cgi-bin/media/get?media_id=` (临时素材).

上传临时素材 (developer.work.weixin.qq.com/document/path/90253): multipart form-data with the
file in a part named `media`; `type` is image, voice, video or file; the answer is
`{"errcode": 0, "errmsg": "", "type": "image", "media_id": "...", "created_at": "1380000000"}`
(created_at a string). "素材上传得到media_id，该media_id仅三天内有效" and "media_id在同一企业内
应用之间可以共享". Limits kept: 图片（image）10MB, JPG/PNG; 语音 2MB; 视频 10MB; 普通文件 20MB;
"所有文件size必须大于5个字节". 获取临时素材 (document/path/90254) answers the bytes with their
Content-Type and a Content-disposition carrying the file name; an unknown or expired media_id
answers 40007 as JSON.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from . import errors
from .errors import ApiError
from .limits import Clock

LIFETIME = 3 * 24 * 3600.0
MAX_BYTES = {
    "image": 10 * 1024 * 1024,
    "voice": 2 * 1024 * 1024,
    "video": 10 * 1024 * 1024,
    "file": 20 * 1024 * 1024,
}
MIN_BYTES = 6  # "所有文件size必须大于5个字节"
_SIZE_ERRORS = {"image": errors.INVALID_IMAGE_SIZE}
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


@dataclass(frozen=True)
class Media:
    media_id: str
    type: str
    data: bytes
    filename: str
    content_type: str
    created_at: float


class MediaStore:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._media: dict[str, Media] = {}

    def upload(self, kind: str | None, data: bytes, filename: str, content_type: str) -> Media:
        if kind not in MAX_BYTES:
            raise ApiError(errors.INVALID_TYPE, f"type {kind!r}")
        if not data:
            raise ApiError(errors.EMPTY_MEDIA)
        if len(data) < MIN_BYTES or len(data) > MAX_BYTES[kind]:
            raise ApiError(_SIZE_ERRORS.get(kind, errors.INVALID_PARAMETER), f"{len(data)} bytes")
        if kind == "image" and not data.startswith(_IMAGE_MAGIC):
            raise ApiError(errors.INVALID_MEDIA_TYPE, "an image is JPG or PNG")
        media = Media(
            media_id=secrets.token_urlsafe(48),
            type=kind,
            data=data,
            filename=filename,
            content_type=content_type,
            created_at=self.clock(),
        )
        self._media[media.media_id] = media
        return media

    def add(self, kind: str, data: bytes, filename: str, content_type: str) -> Media:
        """Media a resident or member sent (their photos), without the upload checks."""
        media = Media(secrets.token_urlsafe(48), kind, data, filename, content_type, self.clock())
        self._media[media.media_id] = media
        return media

    def get(self, media_id: str | None) -> Media:
        media = self._media.get(media_id or "")
        if media is None or self.clock() >= media.created_at + LIFETIME:
            raise ApiError(errors.INVALID_MEDIA_ID, "unknown or expired (valid 3 days)")
        return media
