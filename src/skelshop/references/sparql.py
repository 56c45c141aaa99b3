"""SPARQL for reference images: the queries, and a client for Wikidata/Commons query services."""

from __future__ import annotations

import json
from dataclasses import dataclass

from skelshop.errors import SkelshopError
from skelshop.formats.qid_list import is_qid
from skelshop.references.http_client import PoliteClient, TransferError

PREFIXES = (
    "PREFIX wd: <http://www.wikidata.org/entity/>\n"
    "PREFIX wdt: <http://www.wikidata.org/prop/direct/>\n"
    "PREFIX schema: <http://schema.org/>\n"
)
HUMAN = "Q5"
SPARQL_JSON = "application/sparql-results+json"


def _values(var: str, qids: list[str]) -> str:
    return f"VALUES ?{var} {{ {' '.join('wd:' + q for q in qids)} }}"


def wikidata_images_query(qids: list[str]) -> str:
    """P18 images of the listed items."""
    return (
        f"{PREFIXES}SELECT ?item ?image WHERE {{\n  {_values('item', qids)}\n"
        "  ?item wdt:P18 ?image .\n}"
    )


def _humans(humans_only: bool) -> str:
    # The original returned every item with the occupation; by default we keep humans (Q5).
    return f"  ?item wdt:P31 wd:{HUMAN} .\n" if humans_only else ""


def occupation_images_query(occupations: list[str], humans_only: bool = True) -> str:
    """P18 images of items whose occupation is, or is a subclass of, a listed one."""
    return (
        f"{PREFIXES}SELECT DISTINCT ?item ?image WHERE {{\n  {_values('occupation', occupations)}\n"
        f"  ?item wdt:P106/wdt:P279* ?occupation .\n{_humans(humans_only)}"
        "  ?item wdt:P18 ?image .\n}"
    )


def occupation_people_query(occupations: list[str], humans_only: bool = True) -> str:
    """Items whose occupation is, or is a subclass of, a listed one."""
    return (
        f"{PREFIXES}SELECT DISTINCT ?item WHERE {{\n  {_values('occupation', occupations)}\n"
        f"  ?item wdt:P106/wdt:P279* ?occupation .\n{_humans(humans_only)}}}"
    )


def commons_depicts_query(qids: list[str]) -> str:
    """Commons files whose structured data says they depict (P180) one of the items."""
    return (
        f"{PREFIXES}SELECT ?item ?image WHERE {{\n  {_values('item', qids)}\n"
        "  ?file wdt:P180 ?item .\n  ?file schema:contentUrl ?image .\n}"
    )


@dataclass(frozen=True)
class ImageHit:
    """One image the service says shows one person."""

    qid: str
    url: str


def _qid_of(uri: str) -> str | None:
    token = uri.rstrip("/").rsplit("/", 1)[-1]
    return token if is_qid(token) else None


class SparqlService:
    """A SPARQL endpoint answering SELECT queries as SPARQL JSON."""

    def __init__(self, endpoint: str, client: PoliteClient, auth_hint: str = ""):
        self.endpoint = endpoint
        self.client = client
        self.auth_hint = auth_hint

    def select(self, query: str) -> list[dict]:
        """Run a SELECT and return its bindings."""
        try:
            response = self.client.post_form(self.endpoint, {"query": query}, accept=SPARQL_JSON)
        except TransferError as err:
            hint = self.auth_hint if err.status in (401, 403) else ""
            raise SkelshopError(self.endpoint, f"query failed: {err.problem}{hint}") from None
        try:
            doc = json.loads(response.content)
            bindings = doc["results"]["bindings"]
        except (ValueError, KeyError, TypeError):
            kind = response.headers.get("Content-Type", "unknown type")
            raise SkelshopError(
                self.endpoint, f"did not answer with SPARQL JSON (got {kind}){self.auth_hint}"
            ) from None
        if not isinstance(bindings, list):
            raise SkelshopError(self.endpoint, "SPARQL JSON without a list of bindings")
        return bindings

    def image_hits(self, query: str) -> list[ImageHit]:
        """Rows of `?item ?image`; rows with a malformed item are dropped."""
        hits = []
        for row in self.select(query):
            try:
                item, image = row["item"]["value"], row["image"]["value"]
            except (KeyError, TypeError):
                continue
            qid = _qid_of(str(item))
            if qid is not None:
                hits.append(ImageHit(qid, str(image)))
        return hits

    def items(self, query: str) -> list[str]:
        """QIDs bound to `?item`, in answer order without repeats."""
        seen: dict[str, None] = {}
        for row in self.select(query):
            qid = _qid_of(str(row.get("item", {}).get("value", "")))
            if qid is not None:
                seen.setdefault(qid)
        return list(seen)
