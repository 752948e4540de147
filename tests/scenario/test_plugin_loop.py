"""The example connector plugin through the whole loop: a signed mention, the model (fake OpenAI API) choosing the
plugin's action, the card, an approval clicked twice, and exactly one effect (one line in the plugin's file)."""

from __future__ import annotations

import json
from pathlib import Path

from memory import effects
from tests.scenario.loop_helpers import approve_twice_and_run, card_text, plan_row, posts_in
from tests.scenario.test_mcp_loop import ask, plan_json, tool_step

pytest_plugins = ["tests.plugins.hello_plugin"]  # the hello_site fixture


def test_a_plugin_action_runs_once_after_approval_despite_a_double_click(
    bot, fake_openai, db, hello_site: Path, monkeypatch, tmp_path
):
    monkeypatch.syspath_prepend(str(hello_site))
    bot.setting_changes = {
        "openai_api_key": fake_openai.api_key,
        "openai_base_url": fake_openai.base_url,
        "baton_home": tmp_path,
    }
    fake_openai.queue_chat(
        plan_json(tool_step("hello.append_line", {"text": "Release 1.2 shipped"}, "Log the release"), title="Log it")
    )
    ask(bot, "write in the hello file that release 1.2 shipped")
    # The model was offered the plugin's action, with its source.
    system = fake_openai.chat_requests[0].body["messages"][0]["content"]
    assert '"action": "hello.append_line"' in system and '"source": "plugin:baton-plugin-hello"' in system
    plan = plan_row(db)
    assert plan["status"] == "pending" and not plan["auto_approved"]  # it writes: a person approves it
    card = json.loads(card_text(bot, plan))
    assert "Append the line “Release 1.2 shipped” to `lines.txt`." in json.dumps(card, ensure_ascii=False)
    written = tmp_path / "hello" / "lines.txt"
    assert not written.exists()  # nothing before approval
    approve_twice_and_run(bot, plan)
    assert plan_row(db)["status"] == "succeeded"
    assert written.read_text().splitlines() == [f"{effects.step_key(plan['id'], 0)}\tRelease 1.2 shipped"]
    step = db.execute("SELECT status, result FROM plan_steps WHERE plan_id = %s", (plan["id"],)).fetchone()
    assert step["status"] == "succeeded" and step["result"] == {"line": 1}
    report = posts_in(bot, "C0GENERAL", containing="Done:")
    assert len(report) == 1 and "Log the release" in report[0]["text"]
