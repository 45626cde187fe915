"""The CDS Hooks 2.0 response rules, as checks a test applies to every answer (HL7/cds-hooks
input/fsh/logicals/CDSHooksResponse.fsh and its invariants cds-resp-1..7)."""

from __future__ import annotations

import uuid
from typing import Any

INDICATORS = {"info", "warning", "critical"}
ACTION_TYPES = {"create", "update", "delete"}
SELECTION = {"at-most-one", "any"}
LINK_TYPES = {"absolute", "smart"}
CARD_MEMBERS = {
    "uuid",
    "summary",
    "detail",
    "indicator",
    "source",
    "suggestions",
    "selectionBehavior",
    "overrideReasons",
    "links",
    "extension",
}


def no_empty_members(value: Any, path: str = "$") -> list[str]:
    """Optional members are omitted, never null, "", [] or {} (the top-level cards list excepted)."""
    problems = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}"
            if item is None or item == "" or item == [] or item == {}:
                if where != "$.cards":
                    problems.append(f"{where} is empty")
            problems += no_empty_members(item, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            problems += no_empty_members(item, f"{path}[{i}]")
    return problems


def _is_uuid(text: Any) -> bool:
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True


def card_problems(card: dict[str, Any]) -> list[str]:
    problems = [f"unknown member {k}" for k in set(card) - CARD_MEMBERS]
    summary = card.get("summary")
    if not isinstance(summary, str) or not summary or len(summary) >= 140 or "\n" in summary:
        problems.append(f"summary must be one line under 140 characters: {summary!r}")
    if card.get("indicator") not in INDICATORS:
        problems.append(f"indicator {card.get('indicator')!r}")
    source = card.get("source")
    if not isinstance(source, dict) or not isinstance(source.get("label"), str) or not source["label"]:
        problems.append("source.label is required")
    elif "url" in source and not str(source["url"]).startswith(("https://", "http://")):
        problems.append("source.url must be absolute")
    if "uuid" in card and not _is_uuid(card["uuid"]):
        problems.append("uuid is not a UUID")
    if "detail" in card and not isinstance(card["detail"], str):
        problems.append("detail must be Markdown text")
    suggestions = card.get("suggestions")
    if suggestions is not None:
        if card.get("selectionBehavior") not in SELECTION:
            problems.append("cds-resp-6: suggestions need selectionBehavior")
        recommended = sum(1 for s in suggestions if s.get("isRecommended"))
        if card.get("selectionBehavior") == "at-most-one" and recommended > 1:
            problems.append("cds-resp-1: at-most-one allows one recommended suggestion")
        for s in suggestions:
            if not isinstance(s.get("label"), str) or not s["label"]:
                problems.append("suggestion label is required")
            if "uuid" in s and not _is_uuid(s["uuid"]):
                problems.append("suggestion uuid is not a UUID")
            for action in s.get("actions", ()):
                if action.get("type") not in ACTION_TYPES:
                    problems.append(f"action type {action.get('type')!r}")
                if not action.get("description"):
                    problems.append("cds-resp-5: actions need a description")
                if action.get("type") == "delete" and not action.get("resourceId"):
                    problems.append("cds-resp-2: delete needs resourceId")
                if action.get("type") in ("create", "update") and not isinstance(
                    action.get("resource"), dict
                ):
                    problems.append("create/update needs the resource")
    elif "selectionBehavior" in card:
        problems.append("selectionBehavior without suggestions")
    for link in card.get("links", ()):
        if not link.get("label") or not link.get("url") or link.get("type") not in LINK_TYPES:
            problems.append(f"link {link!r}")
        if "appContext" in link and link.get("type") != "smart":
            problems.append("cds-resp-3: appContext only on smart links")
    for reason in card.get("overrideReasons", ()):
        if not reason.get("display") or not reason.get("code") or not reason.get("system"):
            problems.append("cds-resp-4: override reasons need code, system and display")
    return problems


def response_problems(payload: dict[str, Any]) -> list[str]:
    problems = [f"unknown member {k}" for k in set(payload) - {"cards", "systemActions", "extension"}]
    if not isinstance(payload.get("cards"), list):
        problems.append("cards must be a list")
        return problems
    for i, card in enumerate(payload["cards"]):
        problems += [f"cards[{i}]: {p}" for p in card_problems(card)]
    problems += no_empty_members(payload)
    return problems
