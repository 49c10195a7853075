"""The sandbox: a local emulation of Slack for trying, previewing and testing Peerlearn without Slack.

It serves the Web API methods the app calls, keeps a small workspace in its own database, sends the
app signed requests as Slack does, and draws a page where you act as people in the workspace. The
app's own code never knows: only this package knows it is not Slack. Entry: `sandbox.launcher`.
"""
