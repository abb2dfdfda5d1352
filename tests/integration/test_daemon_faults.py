"""Faults of the toolstack and of stub domains (issue 3), on the simulated host."""

import time

import pytest

from simhost import sim_host, wait_for  # noqa: F401  (fixture)
from stubdomd import EXAMPLES, Stubdomd

HVM = str(EXAMPLES / "hvmconfig")


def test_xl_create_failing_fails_the_guest_with_xl_s_message(sim_host):
    sim_host.set_fault("xl-create-fail", "no memory left in the simulated pool", domain="hvmconfig-dm")
    with Stubdomd(sim_host) as d:
        sim_host.xl("create", HVM)
        guest = d.wait_state("hvmconfig", "failed")
        assert sim_host.domid("hvmconfig-dm") is None
        reason = d.prop(guest["path"], "StateReason")
        assert reason.startswith("xl create failed: ")
        assert "no memory left in the simulated pool" in reason
        assert "no memory left in the simulated pool" in d.log()


def test_a_failed_xl_create_is_explained_by_its_first_error_not_the_clean_up(sim_host):
    # libxl names the cause first, then its clean-up of the half-built domain complains
    # (what Debian's xl 4.17 printed on real Xen): the reason must keep the cause.
    cause = "unable to add device with path /local/domain/0/backend/vbd/8/768"
    clean_up = ["libxl: error: libxl_domain.c:1183:libxl__destroy_domid: Domain 8:Non-existant domain",
                "libxl: error: libxl_domain.c:1137:domain_destroy_callback: Domain 8:Unable to destroy guest",
                "libxl: error: libxl_domain.c:1064:domain_destroy_cb: Domain 8:Destruction of domain failed"]
    sim_host.set_fault("xl-create-fail", "\n".join([cause] + clean_up), domain="hvmconfig-dm")
    with Stubdomd(sim_host) as d:
        sim_host.xl("create", HVM)
        guest = d.wait_state("hvmconfig", "failed")
        reason = d.prop(guest["path"], "StateReason")
        assert reason.startswith("xl create failed: libxl: error: ")
        assert reason.index(cause) < reason.index("Destruction of domain failed")
        assert reason.endswith(clean_up[-1])
        assert "Parsing config from" not in reason
        assert cause in d.log()


def test_a_stub_domain_that_never_runs_is_destroyed_after_the_timeout(sim_host):
    sim_host.set_fault("stubdom-never-running")
    with Stubdomd(sim_host, settings={"start_timeout_ms": 1500}) as d:
        sim_host.xl("create", HVM)
        wait_for(lambda: sim_host.domid("hvmconfig-dm"), what="the stub domain to be created")
        guest = d.wait_state("hvmconfig", "failed")
        assert d.prop(guest["path"], "StateReason") == "hvmconfig-dm did not reach running within 1.5 s"
        wait_for(lambda: sim_host.domid("hvmconfig-dm") is None,
                 what="the stub domain to be destroyed")
        g = sim_host.domid("hvmconfig")
        assert sim_host.xs_read(f"/local/domain/0/device-model/{g}") is None


@pytest.mark.parametrize("policy", ["crash-guest", "leave", "restart"])
def test_a_stub_domain_crash_follows_the_policy(sim_host, policy):
    with Stubdomd(sim_host, settings={"on_stubdom_death": policy}) as d:
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "running")
        g, s = sim_host.domid("hvmconfig"), sim_host.domid("hvmconfig-dm")
        sim_host.crash(s)
        if policy == "crash-guest":
            # SHUTDOWN_crash is reason 3 (xen/include/public/sched.h).
            wait_for(lambda: sim_host.domains().get(g, {}).get("reason") == 3,
                     what="the guest to be crashed")
            assert "the guest was crashed (on_stubdom_death = crash-guest)" in d.log()
        elif policy == "leave":
            guest = d.wait_state("hvmconfig", "failed")
            assert "on_stubdom_death = leave" in d.prop(guest["path"], "StateReason")
            assert g in sim_host.domains()
            assert sim_host.domains()[g]["shutdown"] == 0
        else:
            wait_for(lambda: (sim_host.domid("hvmconfig-dm") or s) != s,
                     what="a new stub domain")
            guest = d.wait_state("hvmconfig", "running")
            assert d.prop(guest["path"], "Restarts") == 1
        wait_for(lambda: s not in sim_host.domains(), what="the dead stub domain to be destroyed")


def test_a_guest_destroyed_while_its_stub_domain_starts_leaves_no_stub_domain(sim_host):
    sim_host.set_setting("boot-delay-ms", 1500)
    with Stubdomd(sim_host) as d:
        sim_host.xl("create", HVM)
        wait_for(lambda: d.guests().get("hvmconfig", {}).get("state") == "starting",
                 what="the stub domain to be starting")
        sim_host.xl("destroy", "hvmconfig")
        wait_for(lambda: set(sim_host.domains()) == {0}, what="no domain but dom0")
        time.sleep(2)  # past the boot delay: nothing comes back
        assert set(sim_host.domains()) == {0}
        assert d.guests() == {}
