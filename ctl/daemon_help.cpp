// The --help texts of unlinkctl and of each daemon command, kept apart from
// the code so each reads as a small man page.
#include <map>
#include <string>

#include "ctl/daemon_commands.hpp"

namespace unlinkd::ctl {

const char* const usage_text =
    R"(usage: unlinkctl [--socket PATH] [--json] COMMAND [OPTIONS] [ARGS]

Talks to a running unlinkd over its control socket, and checks manifests
offline.

Commands:
  status                 is the daemon up; one line per batch
  batches                all batches as a table
  show BATCH             one batch: state, reason, counts by state and step
  accounts BATCH         a batch's accounts as a table (--state S, --limit N)
  history BATCH ACCOUNT  one account and its events
  watch BATCH            a live progress line until the batch ends
  pause BATCH            pause a batch at the next step boundary
  resume BATCH           resume a paused batch
  cancel BATCH           cancel a batch (accounts mid-step finish the step)
  retry BATCH            send a batch's failed accounts round again
  report BATCH           the batch report (--format csv|json, -o FILE)
  submit [--dry-run] FILE  submit a manifest as a new batch
  events                 the event log (--since SEQ, --follow)
  validate MANIFEST...   check manifests (profile names too when the daemon
                         answers; --offline never asks it)

Global options (before or after the command):
  --socket PATH  the daemon's control socket; default $UNLINKD_SOCKET, else
                 /run/unlinkd/unlinkd.sock
  --json         print the daemon's JSON answer instead of a table
  -h, --help     show this text; `unlinkctl COMMAND --help` for a command

Exit status:
  0  ok
  1  usage or other error
  2  invalid manifest
  3  not found (no such batch or account)
  4  refused (not allowed, or conflicts with the batch's state)
  5  the daemon is not reachable on the socket
)";

namespace {

constexpr const char* exit_codes_common = R"(
Exit status:
  0  ok
  1  usage error, or an unexpected answer
  3  no such batch (or account)
  4  refused: the caller may not do this, or the batch's state forbids it
  5  the daemon is not reachable on the socket
)";

const std::map<std::string, std::string>& helps() {
  static const std::map<std::string, std::string> texts{
      {"status", std::string(R"(usage: unlinkctl [--socket PATH] [--json] status

Says whether unlinkd answers and how many accounts are in flight, then one
line per batch: name, state, done/total, failed, and how many accounts wait
for a person (needs_attention).

With --json: {"health": <GET /v1/health>, "batches": [<GET /v1/batches>]}.
)") + R"(
Exit status:
  0  the daemon answered
  1  an unexpected answer
  4  the caller may not read the socket
  5  the daemon is not reachable on the socket
)"},
      {"batches", std::string(R"(usage: unlinkctl [--socket PATH] [--json] batches

All batches, oldest first, as a table:

  BATCH  ID  STATE  ACTION  DRY RUN  TOTAL  DONE  FAILED  ATTENTION  CREATED

STATE is queued, running, paused, cancelling, cancelled or completed;
CREATED is UTC. With --json: GET /v1/batches as is.
)") + exit_codes_common},
      {"show", std::string(R"(usage: unlinkctl [--socket PATH] [--json] show BATCH

One batch: its state and the reason for it, action, credentials profile,
business center, source file, submitter's uid, creation and finish times,
then its accounts counted by state and, for those not finished, by the
step they are at. With --json: GET /v1/batches/BATCH as is.
)") + exit_codes_common},
      {"accounts",
       std::string(
           R"(usage: unlinkctl [--socket PATH] [--json] accounts BATCH [--state S] [--limit N]

A batch's accounts in id order, as a table:

  ACCOUNT  LABEL  TYPE  STATE  STEP  ATTEMPTS  LAST ERROR

Options:
  --state S   only accounts in state S: pending, preflight, backup, pause,
              unlink, verify, done, failed, cancelled or needs_attention
  --limit N   at most N accounts (default 100); pages of up to 1000 are
              followed until N are shown or none are left, and a note says
              when more are left

With --json: {"batch", "accounts": [...], "next_after"} with the pages'
accounts joined; "next_after" is there when more are left.
)") + R"(
Exit status:
  0  ok
  1  usage error (a bad --state, say), or an unexpected answer
  3  no such batch
  4  the caller may not read the socket
  5  the daemon is not reachable on the socket
)"},
      {"history", std::string(R"(usage: unlinkctl [--socket PATH] [--json] history BATCH ACCOUNT

One account of a batch: state, step, attempts, next attempt, last error
(code, message, TikTok request id), backup folder and digest, campaigns it
paused; then its events oldest first:

  SEQ  AT  KIND  FROM  TO  STEP  UID  DETAIL

UID is the caller's uid for changes made over the socket. With --json:
GET /v1/batches/BATCH/accounts/ACCOUNT as is.
)") + exit_codes_common},
      {"watch", std::string(R"(usage: unlinkctl [--socket PATH] [--json] watch BATCH [--interval S]

Polls the batch every S seconds (default 2, from 0.1 to 3600) and shows

  [########............] 4/10 done, 0 failed, 2 in flight, 4 waiting, 3.5/min, ETA 2m00s (running)

until the batch is completed or cancelled. "in flight" counts accounts at a
step (preflight, backup, pause, unlink, verify); "waiting" those pending;
accounts that need a person and cancelled ones are added when there are
any. The rate counts accounts finished per minute over the last two minutes
of polls; the ETA divides what is left by it ("-" until it is known).

On a terminal the line is redrawn in place; otherwise a line is printed
whenever the counts or the state change. With --json, each poll's
GET /v1/batches/BATCH answer is printed on its own line (NDJSON). A failed
poll ends the watch with its exit code; Ctrl-C stops watching (the batch
goes on).
)") + exit_codes_common},
      {"pause", std::string(R"(usage: unlinkctl [--socket PATH] [--json] pause BATCH

Pauses a batch: accounts finish the step they are at and no new step
starts until `unlinkctl resume`. Needs root or the admin_group; the change
is audited with your uid. Prints the daemon's message.
)") + exit_codes_common},
      {"resume", std::string(R"(usage: unlinkctl [--socket PATH] [--json] resume BATCH

Resumes a paused batch. Needs root or the admin_group; audited with your
uid. Prints the daemon's message.
)") + exit_codes_common},
      {"cancel", std::string(R"(usage: unlinkctl [--socket PATH] [--json] cancel BATCH

Cancels a batch at the next step boundary: accounts mid-step finish that
step, the rest are not started again. Needs root or the
admin_group; audited with your uid. Prints the daemon's message.
)") + exit_codes_common},
      {"retry", std::string(R"(usage: unlinkctl [--socket PATH] [--json] retry BATCH

Sends the batch's failed accounts round again from the step they failed at,
with their attempts reset (POST /v1/batches/BATCH/retry-failed). Needs root
or the admin_group; audited with your uid. Prints the daemon's message.
)") + exit_codes_common},
      {"report",
       std::string(
           R"(usage: unlinkctl [--socket PATH] [--json] report BATCH [--format csv|json] [-o FILE]

The batch report, as the daemon writes it to reports/BATCH.json and .csv
when the batch ends, but made now from the store (so it also works while
the batch runs): GET /v1/batches/BATCH/report?format=FORMAT.

  json  {"batch": {...}, "summary": {...}, "accounts": [...]}
  csv   one header line, then one line per account

Options:
  --format F       json (the default) or csv
  -o, --output FILE
                   write the report to FILE instead of standard output:
                   whole or not at all (a temp file in the same folder,
                   synced, then renamed over FILE), mode 0640; prints
                   `BATCH: FORMAT report written to FILE (N bytes)`.
                   `-o -` is standard output.

--json changes nothing here: the format is chosen with --format.
)") + R"(
Exit status:
  0  ok
  1  usage error, FILE cannot be written, or an unexpected answer
  3  no such batch
  4  the caller may not read the socket
  5  the daemon is not reachable on the socket
)"},
      {"events",
       std::string(R"(usage: unlinkctl [--socket PATH] [--json] events [--since SEQ] [--follow]

The daemon's audit log of events (GET /v1/events), oldest first, one line
per event:

  SEQ  AT  KIND  batch ID  account ID  FROM -> TO  step STEP  uid UID  DETAIL

(parts that do not apply are left out; UID is set for an operator's change
over the socket). With --json, the daemon's NDJSON lines as they are: one
JSON object per line with seq, at, kind, detail, from_state, to_state, step
and, when set, batch_id, account_id and uid.

Options:
  --since SEQ  only the events after sequence number SEQ (default 0: all);
               use the last seq you saw to carry on where you left off
  --follow     keep the stream open and print new events as they are
               written, until Ctrl-C or until the daemon stops (it then
               ends the stream: a note on standard error, exit 0)

Without --follow, every event after SEQ is fetched in pages of 1000
(GET /v1/events?follow=false&limit=1000&since=SEQ) and the command ends.
)") + R"(
Exit status:
  0  ok (also when the daemon stopped and ended a --follow stream)
  1  usage error, an unexpected answer, the daemon has too many streams
     open (too_many_streams), or the stream broke off
  4  the caller may not read the socket
  5  the daemon is not reachable on the socket
)"},
      {"submit", std::string(R"(usage: unlinkctl [--socket PATH] [--json] submit [--dry-run] FILE

Reads the manifest FILE and submits it to the daemon over the socket, so
the submission is authorised and audited (the daemon records your uid).
The daemon validates it, profile names included; problems are printed on
standard error as

    FILE:LINE:COL: error: KEY PATH: WHAT IS WRONG AND WHAT TO WRITE

with FILE as given on the command line. The file's base name is sent as
the manifest's name (X-Manifest-Name). The same bytes submitted twice are
refused, as is a batch name already used.

Options:
  --dry-run  submit it as a dry-run batch, as if the manifest said
             `dry_run: true` (POST /v1/batches?dry_run=true); the batch is
             still created and listed

With --json: the daemon's answer as is (also for 409 and 422).
)") + R"(
Exit status:
  0  accepted: prints the batch name and id
  1  usage error, the file cannot be read, or an unexpected answer
  2  the manifest is invalid
  4  refused: the same manifest again, a batch name in use, an account in
     another running batch, or the caller may not change
  5  the daemon is not reachable on the socket
)"},
  };
  return texts;
}

}  // namespace

const char* help_of(const std::string& command) {
  const auto found = helps().find(command);
  return found == helps().end() ? nullptr : found->second.c_str();
}

}  // namespace unlinkd::ctl
