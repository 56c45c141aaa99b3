"""The terminal route of whoisthis: show a cluster in an image viewer and ask for a name."""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

from skelshop.errors import SkelshopError
from skelshop.formats.identifications import clean_label
from skelshop.naming.label_store import LabelStore
from skelshop.naming.proto_dir import scan_proto_dir

QUIT = "quit"
_SAME_AS = re.compile(r"=\s*c?(\d+)", re.IGNORECASE)


def resolve_answer(answer: str, labels: dict[str, str]) -> str | None:
    """The name an answer stands for: `=c3` (or `=3`) means c3's name; None if c3 has none."""
    answer = " ".join(answer.split())
    match = _SAME_AS.fullmatch(answer)
    if match:
        return labels.get(f"c{int(match.group(1))}")
    return answer


def label_in_terminal(protodir: str | Path, store: LabelStore, viewer_cmd: str,
                      ask: Callable[[str], str] = input,
                      say: Callable[[str], object] = print) -> int:
    """Ask for each unnamed cluster (largest first) while a viewer shows it; returns names saved."""
    command = shlex.split(viewer_cmd)
    if not command:
        raise SkelshopError(None, "--thumbview-cmd is empty")
    protodir = Path(protodir)
    saved = 0
    for cluster in scan_proto_dir(protodir):
        if cluster.clus in store.labels():
            continue
        try:
            viewer = subprocess.Popen([*command, str(protodir / cluster.clus)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError as err:
            raise SkelshopError(command[0], f"cannot start the image viewer ({err.strerror})") from None
        try:
            while True:
                size = f"{cluster.members} tracks" if cluster.members is not None else \
                    f"{len(cluster.images)} images"
                try:
                    answer = ask(f"{cluster.clus} ({size}): who is this? "
                                 f"(Enter skips, =c<k> same as c<k>, '{QUIT}' stops) ")
                except EOFError:
                    return saved
                if answer.strip() == QUIT:
                    return saved
                name = resolve_answer(answer, store.labels())
                if name is None:
                    say(f"{answer.strip()[1:]} has no name yet")
                    continue
                try:
                    name = clean_label(name)
                except ValueError as err:
                    say(f"not saved: {err}")
                    continue
                break
        finally:
            viewer.kill()
            viewer.wait()
        if name:
            store.set(cluster.clus, name)
            saved += 1
    return saved
