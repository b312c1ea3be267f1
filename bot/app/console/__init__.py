"""`servicedesk console`: the real bot in a terminal, with an emulated Slack.

`loopback` signs requests as Slack does and serves the real WSGI app in-process;
`slack_emulator` is the Web API side; `session` is the interactive console, which
prints with `render` and plays in the people and channels of `workspace`; `cli` is the
command-line entry.
"""
