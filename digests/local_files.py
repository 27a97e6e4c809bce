"""Feeds and pages read from disk: ``file://`` URLs and plain filesystem paths, under the same
size cap as a download, so that ``digestbot preview page.html`` and the bundled sample feed work
offline. Apart from :mod:`digests.http` so that reading a file does not import the HTTP clients
(``digestbot preview page.html`` starts without them).
"""

from __future__ import annotations

import email.utils
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from digests.errors import FetchError
from digests.http_body import too_large
from digests.models import FetchedResource

__all__ = ["local_path", "read_file"]


def local_path(url: str) -> Path | None:
    """The filesystem path a ``file://`` URL or a scheme-less string names, else ``None``."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "file":
        if parts.netloc not in ("", "localhost"):
            return None
        return Path(url2pathname(unquote(parts.path)))
    if "://" in url:
        return None
    if parts.scheme and len(parts.scheme) > 1 and not Path(url).exists():
        return None  # "mailto:x", "data:..." and the like: not a path
    return Path(url)


def _looks_like_host(path: Path) -> bool:
    # "example.com/feed.xml" was meant as a web address; "missing.html", "/srv/x.html" not.
    return not path.is_absolute() and len(path.parts) > 1 and "." in path.parts[0].strip(".")


def read_file(url: str, path: Path, limit: int, last_modified: str | None) -> FetchedResource:
    try:
        stat = path.stat()
        mtime = email.utils.formatdate(stat.st_mtime, usegmt=True)
        if last_modified is not None and last_modified == mtime:
            return FetchedResource(url=url, status=304, content=None, last_modified=mtime)
        if stat.st_size > limit:
            raise FetchError(url, too_large(limit))
        with path.open("rb") as handle:
            content = handle.read(limit + 1)
    except FileNotFoundError:
        hint = " (for a web address, start it with https://)" if _looks_like_host(path) else ""
        raise FetchError(url, f"no such file: {path}{hint}") from None
    except IsADirectoryError:
        raise FetchError(url, f"is a directory, not a file: {path}") from None
    except OSError as exc:
        raise FetchError(url, f"could not read {path}: {exc.strerror or exc}") from None
    if len(content) > limit:
        raise FetchError(url, too_large(limit))
    content_type, _ = mimetypes.guess_type(path.name)
    return FetchedResource(
        url=url, status=200, content=content, content_type=content_type, last_modified=mtime
    )
