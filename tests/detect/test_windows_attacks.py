"""Public recordings of real attacks raise an incident on the attacked host with the shipped pack alone.

The recordings are OTRF Security-Datasets (Mordor) excerpts in tests/data/real/windows_attacks/ (Empire,
Covenant, Metasploit and Atomic Red Team runs in a lab domain, as NXLog shipped them) and SigmaHQ's own
regression recordings in tests/data/real/sigmahq/ for the LOLBins SigmaHQ recorded. All recordings are
ingested into one store, as an estate's logs would be, and `storewatch detect` runs as a user runs it,
with no rule folder of theirs. Each recording must raise an incident naming the attacked host, and the
shipped Sigma rules whose alerts point at its events, per host, must be exactly the ones listed: a rule
missing is a lost detection, an extra one a false alarm on the benign events around the attack (Windows'
own services, Defender, Edge, Exchange's health probes). The recordings are from different days, or
hosts of different domains, so their alerts do not share a host and day.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from storewatch.detect.engine import detect
from storewatch.ingest.engine import ingest
from storewatch.store import db
from storewatch.workspace import Workspace

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
W5, W6 = "WORKSTATION5.theshire.local", "WORKSTATION6.theshire.local"

# recording -> {attacked host: the shipped Sigma rules (sigma.<name>) that fire on it}
RECORDINGS: dict[str, dict[str, set[str]]] = {
    # credential access
    "windows_attacks/empire_mimikatz_logonpasswords.zip": {W5: {"win_lsass_memory_access"}},
    "windows_attacks/psh_lsass_memory_dump_comsvcs.zip": {"WORKSTATION5": {
        "win_credential_dumping_tools", "win_lsass_memory_access", "win_lsass_dump_file", "win_event_log_cleared"}},
    "windows_attacks/metasploit_procdump_lsass_memory_dump.zip": {"ACCT01.pandalab.com": {
        "win_credential_dumping_tools", "win_lsass_memory_access", "win_lsass_dump_file", "win_double_extension_executable"}},
    "windows_attacks/empire_over_pth_patch_lsass.zip": {W6: {"win_lsass_memory_access", "win_pass_the_hash_logon"}},
    # lateral movement
    "windows_attacks/cmd_psexec_lsa_secrets_dump.zip": {"WORKSTATION5": {
        "win_service_install_suspicious", "win_remote_exec_service_child", "win_registry_hive_dump", "win_event_log_cleared"}},
    "windows_attacks/empire_psexec_dcerpc_tcp_svcctl.zip": {W6: {"win_service_install_suspicious", "win_encoded_powershell"}},
    "windows_attacks/empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod.zip": {W6: {"win_wmi_remote_execution", "win_encoded_powershell"}},
    "windows_attacks/empire_wmic_add_user_backdoor.zip": {W5: {"win_wmi_remote_execution"}, W6: {"win_wmi_remote_execution"}},
    "windows_attacks/empire_psremoting_stager.zip": {W6: {"win_winrm_remote_execution", "win_encoded_powershell"}},
    "windows_attacks/rdp_interactive_taskmanager_lsass_dump.zip": {W5: {"win_remote_logon_from_public_ip"}},
    # web shell, LOLBins, PowerShell
    "windows_attacks/proxylogon_ssrf_rce_poc.zip": {"MXS01.azsentinel.local": {"win_webserver_spawns_shell"}},
    "windows_attacks/cmd_mshta_vbscript_execute_psh.zip": {"WORKSTATION5": {"win_mshta_suspicious", "win_event_log_cleared"}},
    "windows_attacks/empire_launcher_sct_regsvr32.zip": {"WORKSTATION5.mordor.local": {
        "win_regsvr32_suspicious", "win_encoded_powershell"}},
    "windows_attacks/empire_launcher_vbs.zip": {W5: {"win_encoded_powershell", "win_powershell_malicious_script_block"}},
    "sigmahq/proc_creation_win_rundll32_unc_path/5cdb711b-5740-4fb2-ba88-f7945027afac.json": {
        "swachchhanda": {"win_rundll32_suspicious"}},
    "sigmahq/proc_creation_win_certutil_download/19b08b1c-861d-4e75-a1ef-ea0c1baf202b.json": {
        "ar-win-dc.attackrange.local": {"win_lolbin_download_decode"}},
    "sigmahq/proc_creation_win_certutil_decode/cc9cbe82-7bc0-4ef5-bc23-bbfb83947be7.json": {
        "ar-win-dc.attackrange.local": {"win_lolbin_download_decode"}},
    "sigmahq/proc_creation_win_bitsadmin_download/d059842b-6b9d-4ed1-b5c3-5b89143c6ede.json": {
        "swachchhanda": {"win_lolbin_download_decode"}},
    "sigmahq/proc_creation_win_powershell_base64_invoke/6385697e-9f1b-40bd-8817-f4a91f40508e.json": {
        "swachchhanda": {"win_encoded_powershell"}},
    "sigmahq/proc_creation_win_wmic_remote_execution/7773b877-5abb-4a3e-b9c9-fd0369b59b00.json": {
        "swachchhanda": {"win_wmi_remote_execution"}},
    "sigmahq/file_event_win_taskmgr_lsass_dump/69ca12af-119d-44ed-b50f-a47af0ebc364.json": {
        "ar-win-dc.attackrange.local": {"win_lsass_dump_file"}},
    # persistence
    "windows_attacks/empire_persistence_registry_modification_run_keys_elevated_user.zip": {
        "WORKSTATION5.mordor.local": {"win_run_key_persistence"}},
    "sigmahq/proc_creation_win_reg_add_run_key/de587dce-915e-4218-aac4-835ca6af6f70.json": {"ar-win-1": {"win_reg_add_run_key"}},
    "windows_attacks/empire_schtasks_creation_standard_user.zip": {W5: {
        "win_schtasks_create_suspicious", "win_powershell_download_cradle"}},
    "windows_attacks/schtask_create.zip": {W5: {"win_schtasks_create_suspicious"}, W6: {"win_scheduled_task_registered_suspicious"}},
}


def test_every_recording_of_the_attack_folder_is_listed() -> None:
    folder = {f"windows_attacks/{p.name}" for p in (REAL / "windows_attacks").glob("*.zip")}
    assert folder and folder <= set(RECORDINGS)


@pytest.fixture(scope="module")
def estate(tmp_path_factory) -> tuple[set[str], dict[str, dict[str, set[str]]]]:
    """(hosts named by an incident, recording -> host -> shipped Sigma rules with an alert on its events)."""
    ws = Workspace.at(tmp_path_factory.mktemp("attacks") / "ws")
    report = ingest([REAL / r for r in sorted(RECORDINGS)], ws)
    assert report.files and all(f.stored == f.read > 0 for f in report.files), report.files
    run = detect(ws)
    assert not run.errors, run.errors
    with db.opened(ws, read_only=True) as con:
        incident_hosts = {h for (hosts,) in con.execute(
            "SELECT [e.value FOR e IN entities IF e.type = 'host'] FROM incidents").fetchall() for h in hosts}
        rows = con.execute("""
            SELECT DISTINCT a.rule_id, e.host, e.source_file
            FROM (SELECT rule_id, unnest(event_ids) AS event_id FROM alerts WHERE kind = 'sigma') a
            JOIN events e USING (event_id)""").fetchall()
    fired: dict[str, dict[str, set[str]]] = {}
    for rule, host, source in rows:
        recording = next(r for r in RECORDINGS if source == str(REAL / r) or source.startswith(f"{REAL / r}!"))
        fired.setdefault(recording, {}).setdefault(host, set()).add(rule.removeprefix("sigma."))
    return incident_hosts, fired


@pytest.mark.parametrize("recording", sorted(RECORDINGS))
def test_recording_raises_an_incident_on_the_attacked_host(estate, recording: str) -> None:
    incident_hosts, fired = estate
    expected = RECORDINGS[recording]
    assert set(expected) <= incident_hosts, (sorted(incident_hosts), expected)
    assert fired.get(recording) == expected
