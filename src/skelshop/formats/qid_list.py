"""The one reader of Wikidata id lists: one QID per line, `#` comments and blank lines ignored."""

from __future__ import annotations

import re
from pathlib import Path

from skelshop.errors import SkelshopError

QID_RE = re.compile(r"Q[1-9][0-9]{0,11}")


def is_qid(token: str) -> bool:
    """Whether `token` is exactly a Wikidata item id such as Q42."""
    return QID_RE.fullmatch(token) is not None


def read_qid_list(path: str | Path) -> list[str]:
    """QIDs in file order without repeats; the first token of each line counts."""
    path = Path(path)
    if not path.is_file():
        raise SkelshopError(path, "no such list file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise SkelshopError(path, "not a UTF-8 text file") from None
    qids: list[str] = []
    seen: set[str] = set()
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        token = stripped.split()[0]
        if not is_qid(token):
            raise SkelshopError(path, f"line {lineno}: {token[:40]!r} is not a Wikidata id (Q123)")
        if token not in seen:
            seen.add(token)
            qids.append(token)
    if not qids:
        raise SkelshopError(path, "no Wikidata ids in file")
    return qids
