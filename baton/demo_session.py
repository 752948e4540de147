"""One person at the demo's keyboard: what each typed turn does in the local workspace.

A turn is a chat message (posted as the current person in the current channel), a demo command (``/click``,
``/pick``, ``/modal``, ``/home``, ``/upload``, ``/as``, ``/in``, ``/help``, ``/quit``) or Baton's slash
command (``/baton …``). What arrives is printed by :class:`~baton.demo_terminal.Terminal`.
No turn ends the session by mistake: an unknown person, channel, file, button or command is answered with
what exists, and a click that does not go through says why.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

from baton.demo_modal import ModalError, modal_values, pick_value, render_fields
from baton.demo_render import Button, Field, match_buttons, render_home, render_reply
from baton.demo_terminal import Terminal
from localslack import LocalSlack
from localslack.errors import LocalSlackError

HELP = """\
Type a message to post it as {user} in {channel}. Mention the bot with @baton.
  /click             list the buttons you can press, numbered
  /click <label>     press a button (e.g. /click approve); if several match, you are asked which
  /click <number>    press one of the buttons just listed
  /baton <text>      run the /baton slash command (\\n in the text is a line break)
  /upload <file> [message]  share a file (e.g. a meeting transcript); the message defaults to "@baton"
  /pick              list the tick boxes, owners and dates on messages, numbered, with their values
  /pick <number> <value>  set one (e.g. /pick 8 bob, /pick 9 2026-01-31, /pick 1 off); it is sent with
                     the next button you press on that message (e.g. /click create follow-ups)
  /modal             show the open form (e.g. after /click reject), with its field names
  /modal <field>=<value> ... submit it (e.g. /modal reason=not this week); fields not given keep their value
  /home              open your App Home tab (what is waiting for you; its buttons work on the messages)
  /as <name>         act as another member ({people})
  /in <channel>      talk in another channel ({channels})
  /if <feature> <turn>  play the turn only when the feature is there (e.g. /if mcp-server-git @baton …)
  /help              this text
  /quit              stop the demo (Ctrl-D works too)"""

#: The demo's own commands; any other ``/word`` except Baton's ``/baton`` is a typo, not a chat message.
DEMO_COMMANDS = ("/click", "/pick", "/baton", "/upload", "/modal", "/home", "/as", "/in", "/help", "/quit", "/exit")


class DemoSession:
    """The person at the keyboard (``me``) in a channel (``where``); :meth:`handle` plays one typed turn.

    ``settle()`` waits until the bot has finished reacting to a turn; ``base`` is where relative
    ``/upload`` paths are looked up first; ``echo`` prints each turn (for scripts, whose turns nobody typed).
    ``missing`` names the optional features this demo lacks and why: their ``/if <feature>`` turns are skipped.
    """

    def __init__(
        self,
        slack: LocalSlack,
        terminal: Terminal,
        *,
        me: str,
        where: str,
        settle: Callable[[], None],
        base: Path,
        echo: bool,
        missing: dict[str, str] | None = None,
    ) -> None:
        self.slack = slack
        self.terminal = terminal
        self.me = me
        self.where = where
        self.settle = settle
        self.base = base
        self.echo = echo
        self.choices: list[Button] = []  # the buttons last listed by number
        self.missing = dict(missing or {})
        self._told: set[str] = set()  # features whose absence was already said
        terminal.viewer = me

    @property
    def my_name(self) -> str:
        return self.terminal.users.get(self.me, self.me)

    def handle(self, line: str) -> bool:
        """Play one turn; False when the person asked to stop."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        command, _, rest = line.partition(" ")
        command = command.lower() if command.startswith("/") else command
        if command in ("/quit", "/exit"):
            return False
        if command == "/if":
            return self._if(rest)
        if command == "/help":
            self.terminal.say(
                HELP.format(
                    user="@" + self.my_name,
                    channel=self.terminal.where(self.where),
                    people=", ".join(self.terminal.people),
                    channels=", ".join(self._channel_names()),
                )
            )
        elif command == "/as":
            self._switch_person(rest)
        elif command == "/in":
            self._switch_channel(rest)
        elif command.startswith("/") and command not in DEMO_COMMANDS:
            self.terminal.say(
                f"(unknown command {command}: /help lists the demo's commands; Baton's own is "
                "/baton. Nothing was posted.)"
            )
        else:
            if self.echo:
                self.terminal.say(f"@{self.my_name} in {self.terminal.where(self.where)}: {line}")
            try:
                self._act(command, rest, line)
            except (LocalSlackError, OSError) as err:  # e.g. a message deleted meanwhile, the bot unreachable
                self.terminal.say(f"(that did not go through: {err})")
        return True

    def _if(self, rest: str) -> bool:
        """``/if <feature> <turn>``: the turn, when the demo has the feature; else one note per feature."""
        feature, _, turn = rest.strip().partition(" ")
        if feature in self.missing:
            if feature not in self._told:
                self._told.add(feature)
                self.terminal.say(f"(skipping the {feature} turns: {self.missing[feature]})")
            return True
        return self.handle(turn)

    # -- turns -------------------------------------------------------------------------------------

    def _act(self, command: str, rest: str, line: str) -> None:
        if command == "/click":
            if not self._click(rest):
                return
        elif command == "/baton":
            # A typed "\n" is a line break, so a pasted multi-line transcript fits on one script line.
            reply = self.slack.slash_command(self.me, self.where, "/baton", rest.replace("\\n", "\n"))
            self._show_reply(reply.body, reply.status, "/baton")
        elif command == "/upload":
            if not self._upload(rest):
                return
        elif command == "/modal":
            if not self._modal(rest):
                return
        elif command == "/pick":
            if not self._pick(rest):
                return
        elif command == "/home":
            self._home()
            return
        else:
            self.slack.post_as_user(self.me, self.where, self._to_slack(line))
        self.settle()

    def _switch_person(self, rest: str) -> None:
        name = rest.strip().lstrip("@").lower()
        found = next((i for i, n in self.terminal.users.items() if name in (n.lower(), i.lower())), None)
        if found is None or found == "U0BATON":
            self.terminal.say(
                f"(no member named {name!r} in the local workspace; people: " + ", ".join(self.terminal.people) + ")"
            )
            return
        self.me = self.terminal.viewer = found
        self.choices = []
        self.terminal.say(f"(you are now @{self.my_name})")

    def _switch_channel(self, rest: str) -> None:
        name = rest.strip().lstrip("#").lower()
        try:
            channel_id = str(self.terminal.web.conversations_info(channel=name)["channel"]["id"])
        except Exception:  # unknown or unreachable: say what there is
            self.terminal.say(
                f"(no channel named #{name} in the local workspace; channels: " + ", ".join(self._channel_names()) + ")"
            )
            return
        self.where = channel_id
        self.terminal.say(f"(you are now in {self.terminal.where(channel_id)})")

    def _channel_names(self) -> list[str]:
        return [
            name
            for channel_id, name in self.terminal.channels.items()
            if channel_id not in self.terminal.dms and name != channel_id
        ]

    def _click(self, rest: str) -> bool:
        """Press the one button ``rest`` means; list the candidates when it means several (or none given)."""
        wanted = rest.strip()
        if wanted.isdigit():
            if not self.choices:
                self.terminal.say("(no numbered list to pick from: /click alone lists the buttons you can press)")
                return False
            if not 1 <= int(wanted) <= len(self.choices):
                self.terminal.say(f"(pick 1 to {len(self.choices)}, or /click to list the buttons again)")
                return False
            button = self.choices[int(wanted) - 1]
            if button not in self.terminal.buttons:
                self.terminal.say("(that button is gone: the message changed; /click lists the buttons now)")
                return False
        else:
            found = match_buttons(self.terminal.buttons, wanted, viewer=self.me)
            if wanted and len(found) > 1 and len({(b.action_id, b.value) for b in found}) == 1:
                found = found[-1:]  # one action on one thing, shown twice (a DM and its reminder): nothing to ask
            if len(found) != 1 or not wanted:
                self._list_choices(found, wanted)
                return False
            button = found[0]
        self.choices = []
        reply = self.slack.click(
            self.me,
            channel=button.channel,
            message_ts=button.message_ts,
            action_id=button.action_id,
            value=button.value,
            block_id=button.block_id,
        )
        self._show_reply(reply.body, reply.status, f"the click on [{button.label}]")
        return True

    def _list_choices(self, found: list[Button], wanted: str) -> None:
        if not found:
            self.choices = []
            others = [b for b in self.terminal.buttons if b.visible_to not in (None, self.me)]
            hidden = [b for b in others if match_buttons([b], wanted, viewer=b.visible_to or "")]
            owners = sorted({"@" + self.terminal.users.get(b.visible_to or "", b.visible_to or "") for b in hidden})
            what = f"button you can press labelled {wanted!r}" if wanted else "buttons you can press"
            seen = f"; only {', '.join(owners)} can see " + ("one" if wanted else "some") if owners else ""
            self.terminal.say(f"(no {what} on screen{seen})")
            return
        self.choices = found
        head = f"{len(found)} buttons match {wanted!r}" if wanted else "Buttons you can press"
        lines = [f"({head}; pick one with /click <number>, or a longer label:)"]
        for number, button in enumerate(found, 1):
            about = f" {button.about[:90]}" if button.about else ""
            lines.append(f"  {number}. [{button.label}]{about}  ({self.terminal.where(button.channel)})")
        self.terminal.say("\n".join(lines))

    def _pick(self, rest: str) -> bool:
        """``/pick``: list the inputs on messages this person sees; ``/pick <n> <value>``: set one."""
        fields = [f for f in self.terminal.fields if f.visible_to in (None, self.me)]
        number, _, value = rest.strip().partition(" ")
        if not number:
            if not fields:
                self.terminal.say("(no fields you can fill on screen: tick boxes, owners and dates on a message)")
            else:
                lines = ["(Fields you can fill; set one with /pick <number> <value>:)"]
                lines += [f"  {n}. {self._field_line(field)}" for n, field in enumerate(fields, 1)]
                self.terminal.say("\n".join(lines))
            return False
        if not number.isdigit() or not 1 <= int(number) <= len(fields):
            self.terminal.say(
                f"(pick 1 to {len(fields)}: /pick lists the fields)" if fields else "(no fields you can fill on screen)"
            )
            return False
        field = fields[int(number) - 1]
        try:
            picked, shown = pick_value(field.element, value, users=self.terminal.users)
        except ModalError as err:
            self.terminal.say(f"({err})")
            return False
        reply = self.slack.click(
            self.me,
            channel=field.channel,
            message_ts=field.message_ts,
            action_id=field.element["action_id"],
            value=picked,
            block_id=field.block_id,
        )
        self._show_reply(reply.body, reply.status, f"the pick in {field.name}")
        what = (
            f"“{field.context}” is now {shown}"
            if field.kind == "checkboxes"
            else (f"{field.name} of “{field.context}” is now {shown}")
        )
        self.terminal.say(f"({what}; it is sent with the next button you press on that message)")
        return True

    def _field_line(self, field: Field) -> str:
        """``[x] Follow up — Send the checklist`` / ``owner: @bob — Decide that``: this person's current value."""
        state = self.slack.input_state(self.me, field.channel, field.message_ts)
        entry = state.get(field.block_id, {}).get(field.element.get("action_id", ""), {})
        users = self.terminal.users
        if field.kind == "checkboxes":
            shown = ("[x] " if entry.get("selected_options") else "[ ] ") + field.name
        elif field.kind == "users_select":
            user = entry.get("selected_user")
            shown = f"{field.name}: " + (f"@{users.get(user, user)}" if user else "(nobody yet)")
        elif field.kind == "datepicker":
            shown = f"{field.name}: {entry.get('selected_date') or '(no date)'}"
        else:
            option = entry.get("selected_option") or {}
            shown = f"{field.name}: " + str((option.get("text") or {}).get("text") or "(none)")
        return f"{shown} — {field.context}" if field.context else shown

    def _home(self) -> None:
        """``/home``: open the App Home tab as Slack does (``app_home_opened``), then show what Baton published."""
        before = len(self.slack.calls_to("views.publish"))
        dm = str(self.terminal.web.conversations_open(users=self.me)["channel"]["id"])
        self.slack.deliver_event(
            {"type": "app_home_opened", "user": self.me, "channel": dm, "tab": "home", "event_ts": f"{time.time():.6f}"}
        )
        self.settle()
        published = [c for c in self.slack.calls_to("views.publish")[before:] if c.params.get("user_id") == self.me]
        if not published:
            self.terminal.say("(Baton did not publish an App Home tab for you; see the demo's log)")
            return
        view = published[-1].params.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        lines = render_home(
            view or {},
            owner=self.me,
            users=self.terminal.users,
            channels=self.terminal.channels,
            ansi=self.terminal.ansi,
            local_urls=self.terminal.local_urls,
        )
        self.terminal.say("\n".join(lines))

    def _upload(self, rest: str) -> bool:
        """``/upload <file> [message]``: share a file from disk, with a message mentioning Baton by default."""
        name, _, comment = rest.strip().partition(" ")
        if not name:
            self.terminal.say("(usage: /upload <file> [message], e.g. /upload launch-meeting.vtt @baton notes please)")
            return False
        path = Path(name).expanduser()
        path = path if path.is_absolute() else (self.base / path if (self.base / path).exists() else Path.cwd() / path)
        if not path.is_file():
            self.terminal.say(f"(no file {name!r})")
            return False
        text = self._to_slack(comment.strip() or "@baton")
        self.slack.upload_file(self.me, self.where, name=path.name, content=path.read_bytes(), initial_comment=text)
        return True

    def _modal(self, rest: str) -> bool:
        """``/modal``: show the open form's fields; ``/modal f=v …``: submit it with those values."""
        view = self.terminal.modal
        if view is None:
            self.terminal.say("(no form is open: a button such as [Reject] or [Review steps] opens one)")
            return False
        if not rest.strip():
            self.terminal.say("\n".join(render_fields(view, users=self.terminal.users)))
            return False
        try:
            values = modal_values(view, rest, users=self.terminal.users)
        except ModalError as err:
            self.terminal.say(f"({err})")
            return False
        reply = self.slack.submit_view(self.me, view["id"], values=values)
        self._show_reply(reply.body, reply.status, "the form")
        if reply.status < 400 and '"errors"' not in reply.body:
            self.terminal.modal = None
        return True

    def _show_reply(self, body: str, status: int, what: str) -> None:
        lines = render_reply(
            body,
            status=status,
            command=what,
            channel=self.where,
            users=self.terminal.users,
            channels=self.terminal.channels,
            ansi=self.terminal.ansi,
            local_urls=self.terminal.local_urls,
        )
        if lines:
            self.terminal.say("\n".join(lines))

    def _to_slack(self, text: str) -> str:
        """``@baton`` / ``#general`` as typed -> Slack's ``<@U…>`` / ``<#C…|general>``, as Slack's client does."""
        by_name = {name.lower(): user_id for user_id, name in self.terminal.users.items()}
        by_channel = {name.lower(): channel_id for channel_id, name in self.terminal.channels.items()}

        def swap_user(match: re.Match[str]) -> str:
            user_id = by_name.get(match.group(1).lower())
            return f"<@{user_id}>" if user_id else match.group(0)

        def swap_channel(match: re.Match[str]) -> str:
            channel_id = by_channel.get(match.group(1).lower())
            return f"<#{channel_id}|{match.group(1)}>" if channel_id else match.group(0)

        text = re.sub(r"(?<![<\w])@([A-Za-z0-9._-]+)", swap_user, text)
        return re.sub(r"(?<![<\w])#([a-z0-9_-]+)", swap_channel, text)
