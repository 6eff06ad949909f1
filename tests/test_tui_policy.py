"""`p` in the explorer: the admission policy that would prevent a rule's findings, copyable,
with how many existing objects it would reject now."""

from __future__ import annotations

from kspm_tui.model import Status
from kspm_tui.policy.admission import Admission, load_policies
from kspm_tui.snapshot import key_of
from kspm_tui.target import Target
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.screens.by_rule import ByRuleScreen
from kspm_tui.tui.screens.finding import FindingScreen
from kspm_tui.tui.screens.modals import HelpScreen
from kspm_tui.tui.screens.policy import PolicyScreen
from kspm_tui.tui.screens.rules import RulesScreen
from kspm_tui.yamlio import load_yaml_all
from tests.tui_helpers import move_to, run_async, screen_text, wait_for, wait_scanned


@run_async
async def test_p_on_a_rule_shows_the_policy_its_reject_count_and_copies_it() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_scanned(pilot, app)
        # the scan's own answer: the distinct workloads failing the rule (accepted ones too:
        # an admission policy knows nothing of accepted risks)
        failing = {(f.kind, f.namespace, f.name) for f in app.scanned.result.findings
                   if f.rule == "K8S-PRIVILEGED" and f.status in (Status.fail, Status.accepted)}
        assert failing
        await pilot.press("colon", *"rules", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RulesScreen))
        await move_to(pilot, app.screen.table, lambda row: row.id == "K8S-PRIVILEGED")
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PolicyScreen) and app.screen.preview is not None)
        text = screen_text(app)
        # what the API server would see: each workload, and the ReplicaSets and Pods it owns
        snapshot = app.scanned.snapshot
        owned = [o for o in snapshot.items if key_of(snapshot.top_owner(o).obj) in failing]
        assert len(owned) > len(failing)  # the demo keeps a Deployment's ReplicaSet and Pod
        assert f"Would reject {len(owned)} existing objects now ({len(failing)} workloads" in text
        assert "kspm-tui policy export --rule K8S-PRIVILEGED --action warn" in text
        assert "kind: ValidatingAdmissionPolicy" in text
        await pilot.press("c")
        await pilot.pause()
        copied = app.clipboard_service.last_text
        policy, binding = load_yaml_all(copied)
        assert policy["metadata"]["name"] == binding["spec"]["policyName"] == "kspm-tui-k8s-privileged"
        assert binding["spec"]["validationActions"] == ["Deny"]
        # the copied policy rejects exactly the objects the screen counted
        admission = Admission(load_policies([policy, binding]))
        rejected = [o for o in snapshot.items if admission.admit(o.obj).outcome == "denied"]
        assert sorted(map(key_of, [o.obj for o in rejected])) == sorted(key_of(o.obj) for o in owned)

        # from the findings of one rule, and from one finding, the same screen
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RulesScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ByRuleScreen))
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PolicyScreen) and app.screen.preview is not None)
        assert app.screen.rule_id == "K8S-PRIVILEGED"
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ByRuleScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingScreen))
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PolicyScreen) and app.screen.preview is not None)
        assert app.screen.preview.rejected == len(owned)

        # the key is in the ? help of the screens that bind it, from the keymap data
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingScreen))
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert ("p", "Admission policy") in app.screen.sections()[0][1]
        assert "Admission policy" in screen_text(app)


@run_async
async def test_p_on_a_rule_that_cannot_export_says_why() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_scanned(pilot, app)
        await pilot.press("colon", *"rules", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RulesScreen))
        await move_to(pilot, app.screen.table, lambda row: row.id == "K8S-NS-NO-NETWORKPOLICY")
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PolicyScreen) and app.screen.preview is not None)
        assert "Not exportable: namespace rule" in screen_text(app)
        await pilot.press("c")
        await pilot.pause()
        assert any("nothing to copy" in n.message for n in app._notifications)
