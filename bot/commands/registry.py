"""Command registry: one Router per feature, composed explicitly, matched by name or alias."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.errors import UsageError

if TYPE_CHECKING:
    from adapters.models import Reply
    from bot.commands.context import CommandContext

Handler = Callable[["CommandContext", str], Awaitable[list["Reply"]]]
# Words after a group word that ask for its list: `/部门 列表`, `/task list`, or nothing at all.
LIST_WORDS = frozenset({"", "list", "ls", "列表", "查看"})


@dataclass(frozen=True)
class CommandSpec:
    name: str  # canonical English form without the slash, e.g. "project new"
    aliases: tuple[str, ...]
    handler: Handler
    usage_key: str  # catalog key of the one-line usage
    summary_key: str
    who: str  # catalog key (`who.*`) of who may run it, for help and refusals
    needs_project: bool = True
    listed: bool = True  # shown in /help's overview
    # For arguments that may carry credentials: the arguments as they may be stored once handled.
    redact: Callable[[str], str] | None = None
    group: bool = False  # a bare group word: it only lists or shows the group's usage


@dataclass(frozen=True)
class Match:
    spec: CommandSpec
    invoked_as: str
    args: str


class Router:
    def __init__(self, name: str, *, title: str) -> None:
        self.name = name
        self.title = title  # catalog key of this group's heading in /help
        self.commands: list[CommandSpec] = []

    def command(
        self,
        name: str,
        *aliases: str,
        usage: str,
        summary: str,
        who: str,
        needs_project: bool = True,
        listed: bool = True,
        redact: Callable[[str], str] | None = None,
        group: bool = False,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.commands.append(
                CommandSpec(name, aliases, handler, usage, summary, who, needs_project, listed, redact, group)
            )
            return handler

        return register

    def group_word(
        self, name: str, alias: str, *, usage: str, summary: str, lister: Handler, show: Handler | None = None
    ) -> None:
        """A bare group word (`/task`, `/任务`): with a list word it shows `lister`'s list, with
        anything else the group's usage line, unlisted in /help. With `show`, anything else goes to
        `show` instead (`/部门 研发` shows that department) and the word is listed in /help."""

        async def group(ctx: CommandContext, args: str) -> list[Reply]:
            if args.lower() in LIST_WORDS:
                return await lister(ctx, "")
            if show is None:
                raise UsageError()
            return await show(ctx, args)

        listed = show is not None
        self.command(name, alias, usage=usage, summary=summary, who="who.anyone", listed=listed, group=True)(
            group
        )


def _is_word_char(char: str) -> bool:
    return unicodedata.category(char).startswith("L")


class Registry:
    def __init__(self) -> None:
        self._routers: list[Router] = []
        # Handles text that matches no command (e.g. a free-text standup reply); may raise NotHandled.
        self.fallback: CommandSpec | None = None
        # (form, spec) pairs, longest form first so "risk add" wins over "risk" and "risks" over "risk".
        self._forms: list[tuple[str, CommandSpec]] = []

    def include_routers(self, *routers: Router) -> Registry:
        for router in routers:
            self._routers.append(router)
            for spec in router.commands:
                for form in (spec.name, *spec.aliases):
                    self._forms.append((form.lower(), spec))
                    compact = form.replace(" ", "")
                    # Chinese users often type "/项目新建" without the space.
                    if compact != form and not compact.isascii():
                        self._forms.append((compact.lower(), spec))
        names = [form for form, _ in self._forms]
        if len(names) != len(set(names)):
            raise RuntimeError("two commands share a name or alias")
        self._forms.sort(key=lambda pair: len(pair[0]), reverse=True)
        return self

    def with_fallback(self, spec: CommandSpec) -> Registry:
        self.fallback = spec
        return self

    @property
    def routers(self) -> tuple[Router, ...]:
        return tuple(self._routers)

    def find(self, name: str) -> CommandSpec | None:
        """The command called `name` (any of its forms), for /help <command>."""
        match = self.match(name)
        return match.spec if match and not match.args else None

    def subcommands(self, word: str) -> list[CommandSpec]:
        """The listed commands under the group word `word` (`项目` -> /项目 新建, /项目 列表, ...)."""
        prefix = word.lower() + " "
        found = {spec.name: spec for form, spec in self._forms if form.startswith(prefix) and spec.listed}
        return sorted(found.values(), key=lambda spec: spec.name)

    def suggest(self, word: str) -> str | None:
        """The command form (or group word) closest to an unknown `word`, if one is close enough.

        A cutoff of 0.5 lets one wrong character of a two-character Chinese word through (进读 -> 进度)."""
        words = {form.split(" ", 1)[0] for form, _ in self._forms}
        close = difflib.get_close_matches(word.lower(), sorted(words), n=1, cutoff=0.5)
        return close[0] if close else None

    def match(self, text: str) -> Match | None:
        """Match normalised text (leading slash optional) against every command form."""
        body = text.lstrip().removeprefix("/").lstrip()
        lowered = body.lower()
        for form, spec in self._forms:
            if not lowered.startswith(form):
                continue
            rest = body[len(form) :]
            # A form must end at a word boundary: "/risks" is not "/risk" + "s".
            if rest and _is_word_char(rest[0]) and (form[-1].isascii() or not rest[0].isascii()):
                continue
            return Match(spec, body[: len(form)], rest.strip())
        return None
