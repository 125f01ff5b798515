#!/usr/bin/env python3
"""Runs awscli commands for fixtures_lib.sh in one long-lived process.

Starting `aws` costs ~0.5 s of Python imports per call; the fixtures make
~200 calls. This co-process imports awscli once and runs each command
through awscli's own entry point (awscli.clidriver, exactly what the `aws`
executable runs), so arguments, output and exit codes are those of `aws`.
Each command gets a new driver and botocore session, as a new `aws`
process would (a reused driver keeps per-command event handlers: wrong);
only botocore's data loader, a read-only cache of the service models, is
shared, so each model file is parsed once.

Protocol (stdin/stdout, one request at a time):
  request:  the argv of one `aws` command, each argument followed by a NUL,
            then the terminator "\\x01\\0"
  response: the command's stdout and stderr are written to the files named
            by argv[1] and argv[2] of this script; then one line with the
            exit code is written to stdout.
"""
import contextlib
import io
import os
import sys

from awscli.clidriver import create_clidriver


def requests(stream):
    buf = b""
    args = []
    while True:
        chunk = stream.read1(65536)
        if not chunk:
            return
        buf += chunk
        while b"\0" in buf:
            arg, buf = buf.split(b"\0", 1)
            if arg == b"\x01":
                yield args
                args = []
            else:
                args.append(arg.decode("utf-8", "surrogateescape"))


def main():
    out_path, err_path = sys.argv[1], sys.argv[2]
    reply = os.fdopen(os.dup(1), "w")
    loader = None
    for argv in requests(sys.stdin.buffer):
        driver = create_clidriver()
        if loader is None:
            loader = driver.session.get_component("data_loader")
        else:
            driver.session.register_component("data_loader", loader)
        with open(out_path, "w") as out, open(err_path, "w") as err:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    rc = driver.main(argv)
                except SystemExit as e:  # argparse usage errors
                    rc = e.code if isinstance(e.code, int) else 2
                except Exception as e:  # never let one command kill the runner
                    print(f"awsrun: {type(e).__name__}: {e}", file=err)
                    rc = 255
        reply.write(f"{rc}\n")
        reply.flush()


if __name__ == "__main__":
    main()
