"""Render report contents as one self-contained HTML page (inline CSS and images, no network)."""

from __future__ import annotations

import hashlib
from html import escape

from skelshop.formats.identity import NOCLUS, is_person_name
from skelshop.report.contents import Appearance, ReportContents, VideoSection

NAMED_BY_TEXT = {
    "direct": "matched to references",
    "cluster+reference": "cluster named from references",
    "cluster": "cluster",
    "none": "unnamed",
}
GALLERY_LIMIT = 24

CSS = """
:root { --bg:#f4f5f7; --card:#fff; --ink:#1d2330; --muted:#6b7385; --line:#e3e6ec; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
       background:var(--bg); color:var(--ink); }
header { background:#1d2330; color:#fff; padding:28px 40px 22px; }
header h1 { margin:0 0 6px; font-size:24px; font-weight:650; letter-spacing:.2px; }
header .totals { color:#c5cad6; font-size:14px; }
header .totals b { color:#fff; }
main { max-width:1180px; margin:0 auto; padding:24px 40px 60px; }
h2 { font-size:18px; margin:34px 0 12px; }
.people { display:grid; grid-template-columns:repeat(auto-fill,minmax(210px,1fr)); gap:14px; }
.person { display:flex; gap:12px; align-items:center; background:var(--card); border-radius:12px;
          padding:12px; box-shadow:0 1px 2px rgba(0,0,0,.06); text-decoration:none; color:inherit;
          border-left:5px solid var(--c); }
.person:hover { box-shadow:0 3px 10px rgba(0,0,0,.12); }
.person img, .avatar { width:58px; height:58px; border-radius:50%; object-fit:cover; flex:none;
          background:var(--c); }
.avatar { display:flex; align-items:center; justify-content:center; color:#fff; font-weight:700; }
.person .name { font-weight:650; }
.person .meta { color:var(--muted); font-size:13px; }
.video { background:var(--card); border-radius:12px; padding:16px 18px 18px; margin:0 0 16px;
         box-shadow:0 1px 2px rgba(0,0,0,.06); }
.video h3 { margin:0 0 10px; font-size:16px; }
.video h3 span { color:var(--muted); font-weight:400; font-size:13px; margin-left:8px; }
.timeline { display:flex; gap:3px; overflow-x:auto; padding-bottom:4px; }
.shot { min-width:92px; background:#eef0f4; border-radius:8px; padding:8px 8px 6px;
        border-top:4px solid #c9ceda; }
.shot.named { border-top-color:var(--c); }
.shot .time { font-size:11px; color:var(--muted); white-space:nowrap; }
.track { display:flex; align-items:center; gap:6px; margin-top:6px; font-size:12.5px;
         white-space:nowrap; }
.track img, .track .dot { width:34px; height:34px; border-radius:50%; object-fit:cover;
         border:3px solid var(--c); flex:none; background:var(--c); }
.track.noclus { color:var(--muted); }
.gallery { background:var(--card); border-radius:12px; padding:16px 18px; margin:0 0 16px;
           border-left:5px solid var(--c); box-shadow:0 1px 2px rgba(0,0,0,.06); }
.gallery h3 { margin:0 0 4px; font-size:16px; }
.gallery .meta { color:var(--muted); font-size:13px; margin-bottom:10px; }
.faces { display:flex; flex-wrap:wrap; gap:6px; margin-bottom:10px; }
.faces img { width:72px; height:72px; border-radius:8px; object-fit:cover; }
.where { font-size:13px; color:#3b4354; columns:2 320px; }
.where div { break-inside:avoid; }
footer { color:var(--muted); font-size:12px; text-align:center; padding:20px; }
"""


def color(label: str) -> str:
    """A stable, readable colour per label (grey for unclustered faces)."""
    if label == NOCLUS:
        return "#9aa1b1"
    hue = int(hashlib.md5(label.encode()).hexdigest()[:4], 16) % 360
    return f"hsl({hue} 55% 45%)"


def clock(seconds: float) -> str:
    """m:ss (or h:mm:ss) for a duration."""
    total = round(seconds)
    hours, rem = divmod(total, 3600)
    minutes, secs = divmod(rem, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _anchor(label: str) -> str:
    return "p-" + hashlib.md5(label.encode()).hexdigest()[:10]


def _face(app: Appearance, css_class: str) -> str:
    if app.thumbnail:
        return f'<img class="{css_class}" src="{app.thumbnail}" alt="{escape(app.label)}">'
    return f'<span class="{css_class}"></span>'


def _screen_time(apps: list[Appearance]) -> float:
    # A person counts once per shot even with two tracks in it.
    shots = {(a.video, a.seg): a.end - a.start for a in apps}
    return sum(shots.values())


def _people_cards(contents: ReportContents) -> str:
    cards = []
    ranked = sorted(contents.people.items(), key=lambda kv: (-_screen_time(kv[1]), kv[0]))
    for label, apps in ranked:
        best = next((a for a in apps if a.thumbnail), None)
        face = (f'<img src="{best.thumbnail}" alt="">' if best
                else f'<span class="avatar">{escape(label[:1].upper())}</span>')
        videos = len({a.video for a in apps})
        shots = len({(a.video, a.seg) for a in apps})
        how = NAMED_BY_TEXT.get(apps[0].named_by, apps[0].named_by)
        cards.append(
            f'<a class="person" href="#{_anchor(label)}" style="--c:{color(label)}">{face}'
            f'<div><div class="name">{escape(label)}</div>'
            f'<div class="meta">{clock(_screen_time(apps))} on screen · {shots} shot'
            f'{"s" if shots != 1 else ""} · {videos} video{"s" if videos != 1 else ""}</div>'
            f'<div class="meta">{escape(how)}</div></div></a>'
        )
    return '<div class="people">' + "".join(cards) + "</div>" if cards else "<p>Nobody found.</p>"


def _video_card(video: VideoSection) -> str:
    shots_html = []
    for idx, (start, end) in enumerate(video.shots or [(0.0, video.duration)]):
        apps = video.appearances.get(idx, [])
        named = [a for a in apps if is_person_name(a.label)]
        accent = color(named[0].label) if named else "#c9ceda"
        tracks = "".join(
            f'<div class="track{" noclus" if a.label == NOCLUS else ""}" style="--c:{color(a.label)}"'
            f' title="track {a.skel_id} · {escape(NAMED_BY_TEXT.get(a.named_by, a.named_by))}">'
            f'{_face(a, "dot")}{escape(a.label)}</div>'
            for a in apps
        )
        grow = max(end - start, 0.1)
        shots_html.append(
            f'<div class="shot{" named" if named else ""}" style="flex:{grow:.2f} 1 0;--c:{accent}">'
            f'<div class="time">shot {idx} · {clock(start)}–{clock(end)}</div>{tracks}</div>'
        )
    return (f'<div class="video"><h3>{escape(video.name)}<span>{clock(video.duration)} · '
            f'{len(video.shots)} shot{"s" if len(video.shots) != 1 else ""}</span></h3>'
            f'<div class="timeline">{"".join(shots_html)}</div></div>')


def _gallery(label: str, apps: list[Appearance]) -> str:
    with_faces = [a for a in apps if a.thumbnail][:GALLERY_LIMIT]
    faces = "".join(f'<img src="{a.thumbnail}" alt="" title="{escape(a.video)} shot {a.seg}">'
                    for a in with_faces)
    where = "".join(
        f'<div>{escape(a.video.rsplit("/", 1)[-1])} · shot {a.seg} · {clock(a.start)}–{clock(a.end)}'
        f'{f" · d={a.distance:.2f}" if a.distance is not None else ""}</div>'
        for a in sorted(apps, key=lambda a: (a.video, a.seg, a.skel_id))
    )
    return (f'<div class="gallery" id="{_anchor(label)}" style="--c:{color(label)}">'
            f'<h3>{escape(label)}</h3><div class="meta">{clock(_screen_time(apps))} on screen · '
            f'{len(apps)} track{"s" if len(apps) != 1 else ""}</div>'
            f'<div class="faces">{faces}</div><div class="where">{where}</div></div>')


def render(contents: ReportContents, title: str = "skelshop report") -> str:
    """The whole page as one HTML string."""
    n_shots = sum(max(len(v.shots), 1) for v in contents.videos)
    n_tracks = sum(len(a) for v in contents.videos for a in v.appearances.values())
    n_named = sum(1 for label in contents.people if is_person_name(label))
    galleries = "".join(_gallery(label, apps) for label, apps in
                        sorted(contents.people.items(), key=lambda kv: -_screen_time(kv[1])))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{escape(title)}</title><style>{CSS}</style></head>
<body><header><h1>{escape(title)}</h1><div class="totals"><b>{len(contents.videos)}</b> videos ·
<b>{n_shots}</b> shots · <b>{n_tracks}</b> face tracks · <b>{n_named}</b> people named ·
<b>{len(contents.people) - n_named}</b> unnamed clusters</div></header>
<main><h2>Who appears</h2>{_people_cards(contents)}
<h2>Videos</h2>{"".join(_video_card(v) for v in contents.videos)}
<h2>Faces by person and cluster</h2>{galleries}</main>
<footer>Generated by skelshop. Screen time counts each shot a person appears in.</footer>
</body></html>
"""
