"""Files in and out of Telegram for the chat's own feeds: the OPML document a ``/import``
comes with (as the document's caption, or a ``/import`` replying to it) and the one
``/export`` sends (``sendDocument``). Platform-neutral on the core's side:
:class:`bot.ports.Attachment` and :class:`bot.ports.Document`."""

from __future__ import annotations

import io

from telegram import Bot, InputFile, Message
from telegram.ext import filters

from bot.ports import Attachment, Document

__all__ = ["IMPORT_CAPTION", "attachment_of", "send_document"]

# A document whose caption is the import command (``/import`` or ``/import@this_bot``).
IMPORT_CAPTION = filters.Document.ALL & filters.CaptionRegex(r"^/import(?:@\w+)?(?:\s|$)")


def attachment_of(message: Message | None, bot: Bot) -> Attachment | None:
    """The document sent with ``message`` (its own, or the one it replies to), or ``None``."""
    if message is None:
        return None
    document = message.document
    if document is None and message.reply_to_message is not None:
        document = message.reply_to_message.document
    if document is None:
        return None
    file_id = document.file_id

    async def read(limit: int) -> bytes:
        # getFile, then the download; bots may fetch files up to 20 MB, the core asks for
        # far less and checked the reported size first.
        telegram_file = await bot.get_file(file_id)
        data = await telegram_file.download_as_bytearray()
        return bytes(data[:limit])

    return Attachment(document.file_name, document.file_size, read)


async def send_document(bot: Bot, chat_id: int, document: Document, thread: str = "") -> None:
    await bot.send_document(
        chat_id,
        InputFile(io.BytesIO(document.content), filename=document.filename),
        caption=document.caption or None,
        message_thread_id=int(thread) if thread else None,
    )
