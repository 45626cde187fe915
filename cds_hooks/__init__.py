"""The CDS Hooks 2.0 service: the same verdict inside the EHR, as cards.

- ``fhir``: FHIR R4 resources (validated with fhir.resources' R4B models) to the API's request shape,
  with every value that was missing, stale or refused named. Pure: no Django.
- ``cards``: the one presentation (``indications.engine.present``) rendered as cards. Pure.
- ``auth``: the JWT every call carries (PyJWT), issuers from ``CDS_HOOKS_ISSUERS``.
- ``views``: discovery, the three services and feedback.
"""
