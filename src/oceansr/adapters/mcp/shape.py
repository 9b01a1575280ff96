"""What an MCP reply looks like on the wire: compact, localized, with ``next`` entries
that are valid calls of this MCP surface.

The control plane's replies are written for every surface (docs/architecture.md, reply
shape): their ``next`` entries name control functions (``{"action", "args", "why"}``).
Over MCP an agent can only call tools, so each entry is rewritten into
``{"tool", "arguments", "why"}`` that validates against the tool's input schema. Replies
are serialised as compact JSON (no indentation) and trimmed to budgets that keep an
agent's context small; the full details stay one call away (status.json, logs).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mcp.types import CallToolResult, TextContent

from oceansr.i18n import localize_summary, localize_warning, text
from oceansr.runs import KillKind, is_terminal

JsonDict = dict[str, Any]

START_TOOL = "ocean_sr_train_start"
STATUS_TOOL = "ocean_sr_train_status"
VISUALIZE_TOOL = "ocean_sr_train_visualize"
REPORT_TOOL = "ocean_sr_train_report"
#: Control actions that are ``ocean_sr_train_status`` actions over MCP.
STATUS_TOOL_ACTIONS = ("status", "logs", "wait", "kill", "list", "resume")
TAIL_CHARS = 400  # traceback/log tail kept in an error_summary (the logs action has more)
#: Reply budgets: bytes of compact JSON (UTF-8) one reply may take of an agent's context.
#: :func:`fit_budget` sheds detail (always one call away: status.json, logs) to hold them.
RUNNING_BUDGET = 1536  # a live run: start, status, wait (a timed-out wait included)
TERMINAL_BUDGET = 2560  # completed, failed, killed, and every error reply
ROW_BUDGET = 300  # one row of list
LIST_LIMIT = 20  # rows of list over MCP unless the agent asks for more
LIST_BUDGET = ROW_BUDGET * LIST_LIMIT + 256  # the default list: its rows plus count/total
#: Status-doc keys an agent never needs (``run_id`` repeats ``process_id``; ``killed_by``
#: is what ``kill_reason`` says, which also has a ``note`` in the reply language).
DROPPED_KEYS = (
    "schema_version",
    "run_id",
    "updated_at",
    "heartbeat_at",
    "hostname",
    "killed_by",
    # Every group's numbers: ``test_verdict`` carries the claim and the losing groups.
    "test_breakdown",
)


def mcp_call(action: str, args: Mapping[str, Any], why: str) -> JsonDict | None:
    """One control-plane ``next`` entry as an MCP tool call (``None`` if no tool has it)."""
    arguments = {k: v for k, v in args.items() if v is not None}
    if action in STATUS_TOOL_ACTIONS:
        return {"tool": STATUS_TOOL, "arguments": {"action": action, **arguments}, "why": why}
    if action == "start":
        return {"tool": START_TOOL, "arguments": arguments, "why": why}
    if action == "visualize":
        return {"tool": VISUALIZE_TOOL, "arguments": arguments, "why": why}
    if action == "report":
        return {"tool": REPORT_TOOL, "arguments": arguments, "why": why}
    return None


def _why(entry: Mapping[str, Any], lang: str) -> str:
    """Why to make a ``next`` call, in ``lang``: a retry (``confirm``) says to ask the
    user first (rule 3) and which override it applies."""
    action = str(entry.get("action"))
    if action == "start" and entry.get("override"):
        return text("next.retry", lang, override=entry["override"])
    if action == "resume" and entry.get("confirm"):
        return text("next.resume.confirm", lang)
    if action == "start":
        return str(entry.get("why") or "")
    return text(f"next.{action}", lang)


def mcp_next(reply: Mapping[str, Any], lang: str) -> list[JsonDict]:
    """The reply's ``next`` as MCP tool calls, plus rule 7 (offer the plots and the
    report) for a completed training run. An entry the user must approve first keeps
    ``confirm: true`` (rule 3)."""
    out: list[JsonDict] = []
    for entry in reply.get("next") or []:
        action = str(entry.get("action"))
        converted = mcp_call(action, entry.get("args") or {}, _why(entry, lang))
        if converted is not None:
            out.append({**converted, "confirm": True} if entry.get("confirm") else converted)
    run_id = reply.get("process_id")
    if reply.get("status") == "completed" and reply.get("kind", "train") == "train" and run_id:
        for action in ("visualize", "report"):
            call = mcp_call(action, {"process_id": run_id}, text(f"next.{action}", lang))
            out.append(call or {})
    return out


#: Metric names an agent shows the user (per split, e.g. ``val/rmse``); the rest stay in
#: status.json and metrics.csv, one ``status`` call or file read away.
HEADLINE = (
    "loss",
    "rmse",
    "rmse_bicubic",
    "rmse_spline",
    "rmse_gain",
    "rmse_gain_spline",
    "mae",
    "psnr",
    "psnr_bicubic",
    "ssim",
    "seam_ratio",
)
SIGNIFICANT = 5  # digits kept of a metric value (metrics.csv has them all)


def _round(value: Any) -> Any:
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return float(f"{value:.{SIGNIFICANT}g}")
    return value


def headline(values: Mapping[str, Any]) -> JsonDict:
    """The headline metrics of one split, rounded (``epoch`` kept for ``best``)."""
    return {
        k: _round(v)
        for k, v in values.items()
        if k == "epoch" or (str(k).rsplit("/", 1)[-1] in HEADLINE and str(k).count("/") == 1)
    }


def _headline_metrics(metrics: Mapping[str, Any], has_test: bool) -> JsonDict:
    """Per-split headline metrics; ``test`` is dropped when the reply already carries it
    as ``test_metrics`` (no duplicate in an agent's context)."""
    return {
        split: headline(values or {})
        for split, values in metrics.items()
        if not (has_test and split == "test")
    }


def _short_summary(summary: Mapping[str, Any], lang: str) -> JsonDict:
    out = {k: v for k, v in localize_summary(summary, lang).items() if v is not None}
    for key in ("traceback_tail", "log_tail"):
        tail = str(out.get(key) or "")
        if tail:
            out[key] = tail[-TAIL_CHARS:]
    return out


def eta_explained(progress: Mapping[str, Any], lang: str) -> JsonDict:
    """``progress`` with a null ``eta_pending`` dropped and a set one explained in
    ``lang`` (``eta_note``): an agent tells the user why there is no ETA yet instead of
    inventing one (the code stays, untranslated, for scripts)."""
    out = {k: v for k, v in progress.items() if not (k == "eta_pending" and v is None)}
    pending = out.get("eta_pending")
    if pending:
        out["eta_note"] = text(f"progress.eta_pending.{pending}", lang)
    return out


def kill_explained(reason: Mapping[str, Any], lang: str) -> JsonDict:
    """``kill_reason`` plus ``note``: who stopped the run, said in ``lang`` (``by`` stays
    the untranslated kind, for scripts; ``detail`` is the recorded text)."""
    out = dict(reason)
    kind = KillKind.parse(out.get("by"))
    if kind is not None:
        out["note"] = text(f"kill.by.{kind.value}", lang)
    return out


def compact_reply(reply: Mapping[str, Any], lang: str = "en") -> JsonDict:
    """The reply an agent reads: headline metrics, trimmed error tails, MCP ``next``."""
    out = {k: v for k, v in reply.items() if k not in DROPPED_KEYS and v is not None}
    test = out.get("test_metrics")
    if isinstance(test, dict):
        out["test_metrics"] = headline(test)
    if isinstance(out.get("metrics"), dict):
        out["metrics"] = _headline_metrics(out["metrics"], bool(test))
    if isinstance(out.get("error_summary"), dict):
        out["error_summary"] = _short_summary(out["error_summary"], lang)
    if isinstance(out.get("progress"), dict):
        out["progress"] = eta_explained(out["progress"], lang)
    if isinstance(out.get("kill_reason"), dict):
        out["kill_reason"] = kill_explained(out["kill_reason"], lang)
    if "next" in reply:
        out["next"] = mcp_next(reply, lang)
    if isinstance(out.get("runs"), list):
        out["runs"] = [list_row(row) for row in out["runs"]]
    _localize_warnings(out, lang)
    return fit_budget(out, budget_of(out))


def _localize_warnings(out: JsonDict, lang: str) -> None:
    """The reply's ``warnings`` (and a finished prediction's) in ``lang``: run files and
    the Python API keep the English sentences; known ones are said again in ``lang``."""
    for holder in (out, out.get("prediction")):
        if isinstance(holder, dict) and isinstance(holder.get("warnings"), list):
            holder["warnings"] = [localize_warning(str(w), lang) for w in holder["warnings"]]


def budget_of(reply: Mapping[str, Any]) -> int:
    """The budget of a compact reply, by what it is."""
    if isinstance(reply.get("runs"), list):
        return ROW_BUDGET * max(len(reply["runs"]), LIST_LIMIT) + 256
    status = reply.get("status")
    if status in ("error", "ok") or is_terminal(status):
        return TERMINAL_BUDGET
    return RUNNING_BUDGET


#: Keys shed, in this order, while a reply is over its budget: first what another key
#: or call repeats (log_path is run_dir/train.log), then detail that status.json,
#: events.jsonl or the logs action keep. ``next``, the state and the error's type,
#: message and suggestions are never shed.
SHEDDABLE = (
    "log_path",
    "host",
    "pgid",
    "memory",
    "created_at",
    "started_at",
    "waited_s",
    "training_start",
    "units",
)


def _size(reply: Mapping[str, Any]) -> int:
    return len(json.dumps(reply, ensure_ascii=False, separators=(",", ":"), default=str).encode())


def _cut_tail(text: str, over: int) -> str:
    """``text`` less at least ``over`` bytes from its start, cut at a line break."""
    keep = text.encode()[over:].decode("utf-8", "ignore")
    return keep.split("\n", 1)[1] if "\n" in keep else keep


def _shed_tails(out: JsonDict, budget: int) -> None:
    """Shorten the log tails (the end is what explains a failure) to fit ``budget``."""
    summary = out.get("error_summary")
    holders = [out, summary] if isinstance(summary, dict) else [out]
    for holder in holders:
        for key in ("log_tail", "traceback_tail"):
            over = _size(out) - budget
            if over > 0 and isinstance(holder.get(key), str):
                holder[key] = _cut_tail(holder[key], over) or None
                if holder[key] is None:
                    del holder[key]


def fit_budget(reply: JsonDict, budget: int) -> JsonDict:
    """``reply`` within ``budget`` bytes, as far as shedding detail allows: tails are
    shortened, then :data:`SHEDDABLE` keys, empty metrics, the older of two metric sets,
    and advice past the first two go."""
    out = dict(reply)
    if isinstance(out.get("error_summary"), dict):
        out["error_summary"] = dict(out["error_summary"])
    if isinstance(out.get("metrics"), dict):
        out["metrics"] = {k: v for k, v in out["metrics"].items() if v}
        if not out["metrics"]:
            del out["metrics"]
    if _size(out) <= budget:
        return out
    _shed_tails(out, budget)
    for key in SHEDDABLE:
        if _size(out) <= budget:
            return out
        out.pop(key, None)
    metrics = out.get("metrics")
    if isinstance(metrics, dict) and "best" in metrics and _size(out) > budget:
        # A live run shows its latest values, a finished one its best.
        drop = "best" if not is_terminal(out.get("status")) else "latest"
        out["metrics"] = {k: v for k, v in metrics.items() if k != drop}
    summary = out.get("error_summary")
    if isinstance(summary, dict) and _size(out) > budget and summary.get("advice"):
        summary["advice"] = summary["advice"][:2]
    return out


#: Keys of a ``list`` row over MCP (at most 300 B each; ``status`` gives the rest). The
#: run id carries the kind and creation time, so neither is repeated.
LIST_ROW_KEYS = (
    "process_id",
    "status",
    "phase",
    "queue_reason",
    "duration_s",
    "epoch",
    "total_epochs",
    "percent",
    "eta_s",
    "model",
    "test_rmse",
    "test_rmse_bicubic",
    "failure_type",
)
#: Keys that only mean something while a run is live.
LIVE_ONLY = ("phase", "queue_reason", "percent", "eta_s")


def list_row(row: Mapping[str, Any]) -> JsonDict:
    """A list row cut to what an agent needs to pick a run: no overrides list, live
    fields only for live runs, numbers rounded."""
    terminal = is_terminal(row.get("status"))
    return {
        k: _round(row[k])
        for k in LIST_ROW_KEYS
        if row.get(k) is not None and not (terminal and k in LIVE_ONLY)
    }


def to_result(reply: Mapping[str, Any]) -> CallToolResult:
    """Compact JSON text plus the same dict as structured content; ``isError`` is set
    on every error reply (a domain error as much as a bad argument) and on no other, so
    a client that reads only the flag sees every failed call and no run state as one
    (a ``failed`` run is a successful status call)."""
    body = json.dumps(reply, ensure_ascii=False, separators=(",", ":"), default=str)
    return CallToolResult(
        content=[TextContent(type="text", text=body)],
        structured_content=dict(reply),
        is_error=reply.get("status") == "error",
    )


def reply_size(reply: Mapping[str, Any]) -> int:
    """Bytes of the compact JSON an agent reads (UTF-8), the figure the budgets cap."""
    body = json.dumps(reply, ensure_ascii=False, separators=(",", ":"), default=str)
    return len(body.encode("utf-8"))
