"""Render report contents as one self-contained HTML page (inline CSS and images, no network)."""

from __future__ import annotations

import hashlib
from html import escape

from skelshop.report.contents import (
    CLUSTER,
    PERSON,
    SINGLE,
    Appearance,
    ReportContents,
    VideoSection,
    display_name,
    person_kind,
    short_name,
)

NAMED_BY_TEXT = {
    "manual": "named by hand on the labelling page (skelshop corpus label)",
    "direct": "recognised from the reference photos",
    "cluster+reference": "named through a group of similar faces that matched the reference photos",
    "cluster": "a group of similar faces nobody has named yet",
    "none": "seen in this track only, like no other face",
}
KIND_TEXT = {
    PERSON: "named",
    CLUSTER: "unnamed, seen in several tracks",
    SINGLE: "unnamed, seen in one track",
}
GALLERY_LIMIT = 24

CSS = """
:root { --bg:#f4f5f7; --card:#fff; --ink:#1d2330; --muted:#5f6779; --line:#e3e6ec; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
       background:var(--bg); color:var(--ink); }
header { background:#1d2330; color:#fff; padding:28px 40px 22px; }
header h1 { margin:0 0 6px; font-size:24px; font-weight:650; letter-spacing:.2px;
            overflow-wrap:anywhere; }
header .totals { color:#c5cad6; font-size:14px; }
header .totals b { color:#fff; }
main { max-width:1180px; margin:0 auto; padding:24px 40px 60px; }
h2 { font-size:18px; margin:34px 0 12px; }
.people { display:grid; grid-template-columns:repeat(auto-fill,minmax(230px,1fr)); gap:14px; }
.person { display:flex; gap:12px; align-items:center; background:var(--card); border-radius:12px;
          padding:12px; box-shadow:0 1px 2px rgba(0,0,0,.06); text-decoration:none; color:inherit;
          border-left:5px solid var(--c); min-width:0; }
.person > div { min-width:0; }
.person:hover { box-shadow:0 3px 10px rgba(0,0,0,.12); }
.person img, .avatar { width:58px; height:58px; border-radius:50%; object-fit:cover; flex:none;
          background:var(--c); }
.avatar { display:flex; align-items:center; justify-content:center; color:#fff; font-weight:700; }
.person .name { font-weight:650; overflow-wrap:anywhere; }
.person .meta { color:var(--muted); font-size:13px; }
.video { background:var(--card); border-radius:12px; padding:16px 18px 18px; margin:0 0 16px;
         box-shadow:0 1px 2px rgba(0,0,0,.06); }
.video h3 { margin:0 0 10px; font-size:16px; overflow-wrap:anywhere; }
.video h3 span { color:var(--muted); font-weight:400; font-size:13px; margin-left:8px; }
/* The bar is to scale and holds no text, so no shot can be too short for its label. */
.bar { display:flex; height:14px; border-radius:7px; overflow:hidden; background:#e3e6ec;
       margin:0 0 12px; }
.bar span { display:block; min-width:0; background:var(--c); border-right:1px solid #fff; }
.bar span:last-child { border-right:0; }
.shots { display:grid; grid-template-columns:repeat(auto-fill,minmax(150px,1fr)); gap:8px; }
.shot { min-width:0; background:#eef0f4; border-radius:8px; padding:8px 8px 6px;
        border-top:4px solid var(--c); overflow:hidden; }
.shot .time { font-size:11.5px; color:var(--muted); white-space:nowrap; overflow:hidden;
              text-overflow:ellipsis; }
.track { display:flex; align-items:center; gap:6px; margin-top:6px; font-size:12.5px;
         min-width:0; }
.track .label { white-space:nowrap; overflow:hidden; text-overflow:ellipsis; min-width:0; }
.track img, .track .dot { width:34px; height:34px; border-radius:50%; object-fit:cover;
         border:3px solid var(--c); flex:none; background:var(--c); }
.track.single { color:var(--muted); }
.nobody { font-size:12px; color:var(--muted); margin-top:6px; }
.gallery { background:var(--card); border-radius:12px; padding:16px 18px; margin:0 0 16px;
           border-left:5px solid var(--c); box-shadow:0 1px 2px rgba(0,0,0,.06); }
.gallery h3 { margin:0 0 4px; font-size:16px; overflow-wrap:anywhere; }
.gallery .meta { color:var(--muted); font-size:13px; margin-bottom:10px; }
.faces { display:flex; flex-wrap:wrap; gap:6px; margin-bottom:10px; }
.faces img { width:72px; height:72px; border-radius:8px; object-fit:cover; }
.where { font-size:13px; color:#3b4354; columns:2 320px; }
.where div { break-inside:avoid; overflow-wrap:anywhere; }
footer { color:var(--muted); font-size:12px; text-align:center; padding:20px; }
@media (max-width:600px) {
  header { padding:20px 16px 16px; }
  main { padding:16px 12px 40px; }
  .video, .gallery { padding:12px; }
  .shots { grid-template-columns:repeat(auto-fill,minmax(130px,1fr)); }
}
"""


def noun(count: int, word: str, words: str | None = None) -> str:
    """The word for `count` things: `person` for 1, `people` (or `word`+s) otherwise."""
    return word if count == 1 else (words or word + "s")


def plural(count: int, word: str, words: str | None = None) -> str:
    """`1 person`, `2 people`, `0 shots`."""
    return f"{count} {noun(count, word, words)}"


def color(key: str) -> str:
    """A stable, readable colour per person (grey for unclustered tracks)."""
    if person_kind(key.split(":", 1)[0]) == SINGLE:
        return "#9aa1b1"
    hue = int(hashlib.md5(key.encode()).hexdigest()[:4], 16) % 360
    return f"hsl({hue} 55% 45%)"


def clock(seconds: float) -> str:
    """m:ss (or h:mm:ss) for a duration."""
    total = round(seconds)
    hours, rem = divmod(total, 3600)
    minutes, secs = divmod(rem, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def span_text(start: float, end: float) -> str:
    """A shot's times; tenths of a second for short shots, which would read 0:01–0:01."""
    if end - start >= 10:
        return f"{clock(start)}–{clock(end)}"

    def tenths(seconds: float) -> str:
        minutes, secs = divmod(round(seconds * 10) / 10, 60)
        return f"{int(minutes)}:{secs:04.1f}"

    return f"{tenths(start)}–{tenths(end)}"


def _anchor(key: str) -> str:
    return "p-" + hashlib.md5(key.encode()).hexdigest()[:10]


def _face(app: Appearance, css_class: str) -> str:
    if app.thumbnail:
        return f'<img class="{css_class}" src="{app.thumbnail}" alt="">'
    return f'<span class="{css_class}"></span>'


def _screen_time(apps: list[Appearance]) -> float:
    # A person counts once per shot even with two tracks in it.
    shots = {(a.video, a.seg): a.end - a.start for a in apps}
    return sum(shots.values())


def _distance_text(app: Appearance, threshold: float | None) -> str:
    if app.distance is None:
        return ""
    limit = f"; the same person is below {threshold:.2f}" if threshold else ""
    return f" · distance to the closest reference photo {app.distance:.2f}{limit}"


def _ranked(contents: ReportContents) -> list[tuple[str, list[Appearance]]]:
    """Named people first, then unnamed ones; each by screen time, longest first."""
    order = {PERSON: 0, CLUSTER: 1, SINGLE: 1}
    return sorted(contents.people.items(),
                  key=lambda kv: (order[person_kind(kv[1][0].label)], -_screen_time(kv[1]), kv[0]))


def _people_cards(contents: ReportContents) -> str:
    cards = []
    for key, apps in _ranked(contents):
        first = apps[0]
        best = next((a for a in apps if a.thumbnail), None)
        name = display_name(first)
        face = (f'<img src="{best.thumbnail}" alt="">' if best
                else f'<span class="avatar">{escape(name[:1].upper())}</span>')
        videos = len({a.video for a in apps})
        shots = len({(a.video, a.seg) for a in apps})
        cards.append(
            f'<a class="person" href="#{_anchor(key)}" style="--c:{color(key)}">{face}'
            f'<div><div class="name">{escape(name)}</div>'
            f'<div class="meta">{clock(_screen_time(apps))} on screen · {plural(shots, "shot")}'
            f' · {plural(videos, "video")}</div>'
            f'<div class="meta">{escape(NAMED_BY_TEXT.get(first.named_by, first.named_by))}'
            f'</div></div></a>'
        )
    return '<div class="people">' + "".join(cards) + "</div>" if cards else \
        "<p>Nobody: no face was found in any video.</p>"


def _track_html(app: Appearance) -> str:
    kind = person_kind(app.label)
    how = NAMED_BY_TEXT.get(app.named_by, app.named_by)
    return (f'<div class="track{" single" if kind == SINGLE else ""}" '
            f'style="--c:{color(app.person_key)}" title="{escape(display_name(app))}: '
            f'track {app.skel_id}, {escape(how)} ({escape(app.label)} in the CSV files)">'
            f'{_face(app, "dot")}<span class="label">{escape(short_name(app))}</span></div>')


def _video_card(video: VideoSection) -> str:
    bar, cards = [], []
    for idx, (start, end) in enumerate(video.shots or [(0.0, video.duration)]):
        apps = video.appearances.get(idx, [])
        named = [a for a in apps if person_kind(a.label) == PERSON]
        accent = color(named[0].person_key) if named else \
            (color(apps[0].person_key) if apps else "#c9ceda")
        who = ", ".join(short_name(a) for a in apps) or "no face"
        span = span_text(start, end)
        bar.append(f'<span style="flex:{max(end - start, 0.001):.3f} 1 0;--c:{accent}" '
                   f'title="shot {idx} · {span} · {escape(who)}"></span>')
        tracks = "".join(_track_html(a) for a in apps) or '<div class="nobody">no face</div>'
        cards.append(f'<div class="shot" style="--c:{accent}">'
                     f'<div class="time" title="shot {idx} · {span}">'
                     f'shot {idx} · {span}</div>{tracks}</div>')
    n_shots = max(len(video.shots), 1)
    return (f'<div class="video"><h3>{escape(video.name)}<span>{clock(video.duration)} · '
            f'{plural(n_shots, "shot")}</span></h3>'
            f'<div class="bar">{"".join(bar)}</div><div class="shots">{"".join(cards)}</div></div>')


def _gallery(key: str, apps: list[Appearance], threshold: float | None) -> str:
    with_faces = [a for a in apps if a.thumbnail][:GALLERY_LIMIT]
    faces = "".join(f'<img src="{a.thumbnail}" alt="" title="{escape(a.video_name)} shot {a.seg}">'
                    for a in with_faces)
    where = "".join(
        f'<div>{escape(a.video_name)} · shot {a.seg} · {span_text(a.start, a.end)}'
        f'{escape(_distance_text(a, threshold))}</div>'
        for a in sorted(apps, key=lambda a: (a.video, a.seg, a.skel_id))
    )
    first = apps[0]
    kind = person_kind(first.label)
    csv_name = f" · {escape(first.label)} in the CSV files" if kind != PERSON else ""
    return (f'<div class="gallery" id="{_anchor(key)}" style="--c:{color(key)}">'
            f'<h3>{escape(display_name(first))}</h3><div class="meta">'
            f'{clock(_screen_time(apps))} on screen · {plural(len(apps), "track")} · '
            f'{escape(KIND_TEXT[kind])}{csv_name}</div>'
            f'<div class="faces">{faces}</div><div class="where">{where}</div></div>')


def render(contents: ReportContents, title: str = "skelshop report") -> str:
    """The whole page as one HTML string."""
    n_shots = sum(max(len(v.shots), 1) for v in contents.videos)
    n_tracks = sum(len(a) for v in contents.videos for a in v.appearances.values())
    kinds = [person_kind(apps[0].label) for apps in contents.people.values()]
    n_named = kinds.count(PERSON)
    n_unnamed = len(kinds) - n_named
    ranked = _ranked(contents)
    galleries = "".join(_gallery(key, apps, contents.threshold) for key, apps in ranked)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{CSS}</style></head>
<body><header><h1>{escape(title)}</h1><div class="totals">
<b>{len(contents.videos)}</b> {noun(len(contents.videos), "video")} ·
<b>{n_shots}</b> {noun(n_shots, "shot")} ·
<b>{n_tracks}</b> face {noun(n_tracks, "track")} ·
<b>{n_named}</b> {noun(n_named, "person", "people")} named ·
<b>{n_unnamed}</b> unnamed {noun(n_unnamed, "person", "people")}</div></header>
<main><h2>Who appears</h2>{_people_cards(contents)}
<h2>Videos</h2>{"".join(_video_card(v) for v in contents.videos)}
<h2>Faces by person</h2>{galleries}</main>
<footer>Generated by skelshop. Screen time counts each shot a person appears in, whole.
Unnamed people are groups of similar faces (clusters) or faces seen in one track only;
name them with <code>skelshop iden whoisthis</code>.</footer>
</body></html>
"""
