"""Discovery: fetch many sources concurrently, name them, and publish what changed.

Stages, so that one bad source never stops the others:

1. **fetch** every source concurrently (at most ``discover_concurrency`` at once), each
   bounded by ``discover_timeout`` as a whole: a socket that hangs costs its timeout, not
   the run. Failures become ``failed`` outcomes (``gone`` for a registered source whose
   socket or file no longer exists).
2. **name** the fetched specs, sequentially in source order so the result never depends on
   timing: an explicit name, else the name the source already has, else ``info.title``,
   else the socket or file name — normalised by :func:`aibroker.codegen.service_name`.
   Two sources wanting one name: the registered owner (or the first in order) keeps it,
   the other gets a ``failed`` outcome naming the clash.
3. **publish** concurrently (:class:`~aibroker.registry.publish.Publisher`), with at most
   ``registry_verify_concurrency`` generations and verifications at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from aibroker.errors import AibrokerError
from aibroker.openrpc import RawSpec, aload_raw
from aibroker.registry.errors import InvalidNameError, NameClashError
from aibroker.registry.layout import check_name
from aibroker.registry.outcome import Outcome
from aibroker.registry.publish import Publisher
from aibroker.registry.sources import Source

logger = logging.getLogger(__name__)

OnOutcome = Callable[[Outcome], None]


@dataclass(frozen=True)
class Fetched:
    """A source and its fetched document, or the outcome that ended it early."""

    source: Source
    raw: RawSpec | None
    outcome: Outcome | None
    started: float


def normalise_name(text: str) -> str:
    """``text`` (a title, a file stem, a requested name) as a valid service name."""
    from aibroker.codegen import service_name  # type: ignore[attr-defined,unused-ignore]

    name = str(service_name(text))
    return check_name(name)


def name_for(source: Source, raw: RawSpec, registered: dict[str, str]) -> str:
    """The name ``source`` publishes under (see stage 2 of the module docstring)."""
    if source.name:
        return normalise_name(source.name)
    if source.location in registered:
        return registered[source.location]
    info = raw.raw.get("info")
    title = info.get("title") if isinstance(info, dict) else None
    candidates = [title] if isinstance(title, str) and title.strip() else []
    if source.fallback_name:
        candidates.append(source.fallback_name)
    problems: list[str] = []
    for candidate in candidates:
        try:
            return normalise_name(candidate)
        except AibrokerError as error:  # InvalidNameError, or the generator's CodegenError
            problems.append(error.message)
    raise InvalidNameError(
        f"{source.location}: no usable service name ({'; '.join(problems) or 'no title'})",
        hint=f"register it with an explicit name: `aibroker register {source.location} --name N`",
    )


async def fetch(source: Source, timeout: float) -> Fetched:  # noqa: ASYNC109
    """Fetch one source's raw document within ``timeout`` seconds in all."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            raw = await aload_raw(source.location, timeout=timeout)
    except TimeoutError:
        error = f"{source.location}: no complete answer within {timeout:g} s"
        return Fetched(source, None, _failed(source, error, started), started)
    except AibrokerError as failure:
        return Fetched(source, None, _failed(source, str(failure), started), started)
    return Fetched(source, raw, None, started)


def _vanished(source: Source) -> bool:
    """Whether a file or unix socket source no longer exists."""
    location = source.location
    if location.startswith("unix://"):
        return not os.path.exists(location.removeprefix("unix://"))
    if "://" not in location:
        return not os.path.exists(location)
    return False


def _failed(source: Source, error: str, started: float) -> Outcome:
    return Outcome(
        source.location,
        "failed",
        source.name,
        error=error,
        duration_s=time.perf_counter() - started,
    )


async def discover_sources(
    publisher: Publisher,
    sources: Iterable[Source],
    *,
    registered: dict[str, str],
    force: bool = False,
    on_outcome: OnOutcome | None = None,
) -> list[Outcome]:
    """Fetch, name and publish ``sources``; one outcome per source, in source order."""
    settings = publisher.settings
    ordered = sorted({source.location: source for source in sources}.values(), key=_order)
    fetch_slots = asyncio.Semaphore(max(settings.discover_concurrency, 1))
    verify_slots = asyncio.Semaphore(max(settings.registry_verify_concurrency, 1))

    def report(outcome: Outcome) -> Outcome:
        if on_outcome is not None:
            on_outcome(outcome)
        return outcome

    async def fetch_one(source: Source) -> Fetched:
        async with fetch_slots:
            fetched = await fetch(source, settings.discover_timeout)
        if fetched.outcome is not None:
            known = registered.get(source.location)
            outcome = replace(fetched.outcome, name=fetched.outcome.name or known)
            if known is not None and _vanished(source):
                outcome = replace(outcome, result="gone")
            fetched = replace(fetched, outcome=report(outcome))
        return fetched

    fetched_all = await asyncio.gather(*(fetch_one(source) for source in ordered))
    owners = {name: location for location, name in registered.items()}
    tasks: list[asyncio.Task[Outcome]] = []
    outcomes: dict[str, Outcome] = {}
    for fetched in fetched_all:
        if fetched.outcome is not None or fetched.raw is None:
            assert fetched.outcome is not None
            outcomes[fetched.source.location] = fetched.outcome
            continue
        try:
            name = name_for(fetched.source, fetched.raw, registered)
        except AibrokerError as error:
            outcomes[fetched.source.location] = report(
                _failed(fetched.source, str(error), fetched.started)
            )
            continue
        owner = owners.setdefault(name, fetched.source.location)
        if owner != fetched.source.location:
            clash = NameClashError(name, fetched.source.location, owner)
            outcome = Outcome(fetched.source.location, "failed", name, error=str(clash))
            outcomes[fetched.source.location] = report(outcome)
            continue
        tasks.append(
            asyncio.create_task(
                _publish_one(publisher, fetched, name, force, verify_slots, report),
                name=f"publish {name}",
            )
        )
    for outcome in await asyncio.gather(*tasks):
        outcomes[outcome.source] = outcome
    return [outcomes[source.location] for source in ordered]


def _order(source: Source) -> tuple[int, str]:
    """Explicitly named sources claim names first, then everything by location."""
    return (0 if source.name else 1, source.location)


async def _publish_one(
    publisher: Publisher,
    fetched: Fetched,
    name: str,
    force: bool,
    slots: asyncio.Semaphore,
    report: Callable[[Outcome], Outcome],
) -> Outcome:
    assert fetched.raw is not None
    try:
        outcome = await publisher.publish(
            fetched.source, fetched.raw, name, force=force, slots=slots
        )
    except AibrokerError as error:
        outcome = Outcome(fetched.source.location, "failed", name, error=str(error))
    except Exception as error:  # a bug in one service's path must not stop the others
        logger.exception("publishing %s from %s failed unexpectedly", name, fetched.source.location)
        outcome = Outcome(
            fetched.source.location,
            "failed",
            name,
            error=f"internal error: {type(error).__name__}: {error}",
        )
    elapsed = time.perf_counter() - fetched.started
    return report(replace(outcome, duration_s=elapsed))
