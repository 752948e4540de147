"""``baton memory``: the state of long-term memory's embeddings, and the deliberate re-embed.

``baton memory status`` prints the provider, the stored model and dimension, how many memories have a
vector and a warning when they do not fit the provider. ``baton memory reembed`` moves every memory to the
current provider (changing the vector dimension if needed), printing ``re-embedded 512/2000`` as it goes;
run it again to finish an interrupted run.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from baton.backends import migrate_database, resolve_backends
from baton.config import CommandError, build_settings
from memory import vectors
from memory.db import Conn, connect

if TYPE_CHECKING:
    from workers.memories.embeddings import EmbeddingProvider

Add = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]

#: Memories per re-embed step. (The heavy imports wait until the command runs: every ``baton`` command
#: builds this parser, and the OpenAI SDK alone would add half a second to each.)
REEMBED_BATCH = 256


def add_memory_parser(subparsers: Any, add: Add) -> argparse.ArgumentParser:
    """Register ``baton memory status|reembed`` through the CLI's ``add(name, func, help)`` helper."""
    del subparsers  # ``add`` already adds to them; taken so the call reads like the CLI's other wiring
    memory = add("memory", cmd_memory, "Long-term memory: embedding status, and re-embedding after a model change.")
    actions = memory.add_subparsers(dest="memory_command", required=True, metavar="ACTION")
    actions.add_parser("status", help="Show the embedding provider, stored vectors and any mismatch.")
    again = actions.add_parser(
        "reembed", help="Re-embed every memory with the current provider (changes the vector dimension if needed)."
    )
    again.add_argument("--batch", type=int, default=REEMBED_BATCH,
                       help=f"memories per step (default {REEMBED_BATCH})")
    return memory


def cmd_memory(args: argparse.Namespace) -> int:
    """Run ``baton memory status`` or ``baton memory reembed``."""
    from workers.memories.embed import EmbeddingBusy, reembed  # deferred: start-up cost (the OpenAI SDK)
    from workers.memories.embeddings import EmbeddingUnavailable, choose_provider  # deferred: start-up cost

    settings, _services = resolve_backends(build_settings(args))
    assert settings.database_url is not None
    migrate_database(settings.database_url)
    provider = choose_provider(settings)
    try:
        with connect(settings.database_url) as conn:
            if args.memory_command == "status":
                return _status(conn, provider)
            if provider is None:
                raise CommandError("no embedding provider: set BATON_EMBEDDING_PROVIDER=local (pip install "
                                   "'baton[local]') or openai with OPENAI_API_KEY, then run this again")
            if args.batch < 1:
                raise CommandError(f"--batch must be positive, got {args.batch}")
            print(f"re-embedding memories with {provider.name} ({provider.dimensions} dimensions)", flush=True)
            try:
                count = reembed(conn, provider, batch=args.batch, progress=_print_progress)
            except (EmbeddingBusy, EmbeddingUnavailable) as err:
                raise CommandError(f"re-embed stopped: {err}; run `baton memory reembed` again to continue") from err
    finally:
        if provider is not None:
            provider.close()
    print(f"done: {count} memories re-embedded with {provider.name}")
    return 0


def _print_progress(done: int, total: int) -> None:
    print(f"re-embedded {done}/{total}", flush=True)


def _status(conn: Conn, provider: EmbeddingProvider | None) -> int:
    from workers.memories.embed import check_embedding_settings  # deferred: start-up cost (the OpenAI SDK)

    stored = vectors.current_settings(conn)
    column = vectors.column_dimensions(conn)
    if provider is None:
        print("provider   none: memories are found by full-text search only")
    else:
        print(f"provider   {provider.name} ({provider.dimensions} dimensions)")
    recorded = f"{stored.model} ({stored.dimensions} dimensions)" if stored else "(nothing recorded yet)"
    print(f"stored     {recorded}; column vector({column})")
    model = provider.name if provider is not None else stored.model if stored is not None else ""
    counts = vectors.counts(conn, model=model)
    print(f"memories   {counts.total}: {counts.embedded} embedded{f' with {model}' if model else ''}, "
          f"{counts.unembedded} waiting")
    if provider is not None and (warning := check_embedding_settings(conn, provider)) is not None:
        print(f"warning    {warning}")
    return 0
