"""Alerts on LINE, through the Messaging API of the site's LINE official account.

gateway.py    the only module that talks to LINE (httpx): link tokens, push messages
messages.py   the texts pushed: the link message and a digest
services.py   account linking (nonces, links) and the webhook's events
views.py      the webhook and the link page
"""
