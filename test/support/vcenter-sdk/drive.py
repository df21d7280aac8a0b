"""Drives a (simulated) vCenter with VMware's Python vSphere Automation SDK, unchanged.

Usage: python drive.py jsonrpc|rest  (reads {"url", "username", "password", "caFile", "location"}
as JSON on stdin). Prints one JSON object with what the appliance answered; an SDK exception
escapes (non-zero exit, traceback on stderr).

- jsonrpc: the SDK's default wire (vAPI JSON-RPC, `POST <url>/api`), as `create_vsphere_client`
  configures it: a `LegacySecurityContextFilter` with user/password for `cis.session.create`,
  then the session id.
- rest: the SDK's REST connector (`msg_protocol='rest'`) on `<url>/rest`, the vAPI REST form the
  recovery services' REST metadata describes. Login is a plain `POST /rest/com/vmware/cis/session`:
  the SDK's `cis.session` REST metadata points at `/session` (the `/api` path) yet parses the
  answer in the `/rest` `{"value": ...}` form, so it logs in on neither base.
"""
import json
import sys
import time

import requests
from com.vmware.appliance.recovery.backup.system_name_client import Archive
from com.vmware.appliance.recovery.backup_client import Job, LocationSpec, SystemName
from com.vmware.appliance.recovery.backup.job_client import Details
from com.vmware.appliance.recovery_client import Restore
from com.vmware.cis_client import Session
from com.vmware.vapi.std.errors_client import NotFound
from vmware.vapi.lib.connect import get_requests_connector
from vmware.vapi.security.client.security_context_filter import LegacySecurityContextFilter
from vmware.vapi.security.session import create_session_security_context
from vmware.vapi.security.user_password import create_user_password_security_context
from vmware.vapi.stdlib.client.factories import StubConfigurationFactory


def main():
    mode = sys.argv[1]
    cfg = json.load(sys.stdin)
    http = requests.Session()
    http.verify = cfg['caFile']
    http.trust_env = False  # REQUESTS_CA_BUNDLE would replace the simulator's CA

    def stub_config(base, protocol, security_context):
        connector = get_requests_connector(
            session=http, msg_protocol=protocol, url=cfg['url'] + base,
            provider_filter_chain=[LegacySecurityContextFilter(security_context=security_context)])
        return StubConfigurationFactory.new_std_configuration(connector)

    if mode == 'jsonrpc':
        login = stub_config('/api', 'json', create_user_password_security_context(cfg['username'], cfg['password']))
        session_id = Session(login).create()
        config = stub_config('/api', 'json', create_session_security_context(session_id))
        user = Session(config).get().user
    else:
        r = http.post(cfg['url'] + '/rest/com/vmware/cis/session', auth=(cfg['username'], cfg['password']))
        r.raise_for_status()
        session_id = r.json()['value']
        config = stub_config('/rest', 'rest', create_session_security_context(session_id))
        user = None

    loc = LocationSpec(location=cfg['location'], location_user='backup', location_password='pw')
    jobs = Job(config)
    started = jobs.create(Job.BackupRequest(
        parts=['common'], location_type=Job.LocationType.SFTP, location=cfg['location'],
        location_user='backup', location_password='pw', backup_password=None, comment='sdk ' + mode))
    status = started
    deadline = time.time() + 20
    while status.state == Job.BackupRestoreProcessState.INPROGRESS and time.time() < deadline:
        time.sleep(0.2)
        status = jobs.get(started.id)
    details = Details(config).list(Details.FilterSpec(jobs={started.id}))
    system_names = SystemName(config).list(loc)
    archives = Archive(config).list(loc, system_names[0], Archive.FilterSpec())
    archive = Archive(config).get(loc, system_names[0], archives[0].archive)
    metadata = Restore(config).validate(Restore.RestoreRequest(
        location_type=Restore.LocationType.SFTP, location=archive.location,
        location_user='backup', location_password='pw', backup_password=None))
    try:
        jobs.get('no-such-job')
        missing = None
    except NotFound as err:
        missing = {'type': type(err).__name__, 'message': err.messages[0].default_message}

    print(json.dumps({
        'mode': mode,
        'sessionUser': user,
        'created': {'id': started.id, 'state': str(started.state)},
        'finished': {'id': status.id, 'state': str(status.state), 'progress': status.progress,
                     'endTime': status.end_time.isoformat() if status.end_time else None},
        'jobList': jobs.list(),
        'details': {k: {'status': str(v.status), 'location': v.location} for k, v in details.items()},
        'systemNames': system_names,
        'archives': [{'archive': a.archive, 'comment': a.comment} for a in archives],
        'archive': {'location': archive.location, 'systemName': archive.system_name, 'parts': archive.parts},
        'validate': {'applicable': metadata.applicable, 'boxname': metadata.boxname,
                     'warnings': [m.default_message for m in metadata.messages]},
        'notFound': missing,
    }))


if __name__ == '__main__':
    main()
