"""Statutory notifications, from the first draft to the regulator's receipt.

Layers, each importing only those above it:
- definitions, registry, answers, form_input, examples, deadlines, content: the types as data and
  what an answer is;
- errors, states: what is refused, the state machine, and allowed_moves() for services and pages alike;
- reading, activity, then drafting, review, submission, comments, listing: the services, callable
  without HTTP;
- presenters, document, rendering: notifications in words and GOV.UK component items;
- lookups and routes_*: HTTP. Route modules import services and presenters, never each other.
"""
