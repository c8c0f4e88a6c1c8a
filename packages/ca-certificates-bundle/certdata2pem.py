"""Print the certificates that Mozilla's certdata.txt trusts for TLS servers, as PEM.

certdata.txt lists objects of attributes. A CKO_CERTIFICATE object contains the DER
bytes in CKA_VALUE, and a CKO_NSS_TRUST object with the same label records what
the certificate is trusted for. Only certificates whose CKA_TRUST_SERVER_AUTH is
CKT_NSS_TRUSTED_DELEGATOR are printed, in file order. Only the standard library is
used, so that the host's /usr/bin/python3 runs it inside the build sandbox.
"""

import base64
import sys
import textwrap


def parse_objects(lines):
    """Yield each object of certdata.txt as a dict of attribute name to value."""
    current = {}
    multiline_name = None
    multiline_bytes = bytearray()
    for line in lines:
        line = line.rstrip("\n")
        if multiline_name is not None:
            if line == "END":
                current[multiline_name] = bytes(multiline_bytes)
                multiline_name = None
                continue
            for octal in line.split("\\")[1:]:
                multiline_bytes.append(int(octal, 8))
            continue
        if not line or line.startswith("#"):
            if not line and current:
                yield current
                current = {}
            continue
        parts = line.split(" ", 2)
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if name == "CKA_CLASS" and current.get("CKA_CLASS"):
            yield current
            current = {}
        if kind == "MULTILINE_OCTAL":
            multiline_name = name
            multiline_bytes = bytearray()
        elif len(parts) == 3:
            current[name] = parts[2].strip('"')
    if current:
        yield current


def main(path):
    with open(path, encoding="utf-8") as certdata:
        objects = list(parse_objects(certdata))
    trusted = {
        obj.get("CKA_LABEL")
        for obj in objects
        if obj.get("CKA_CLASS") == "CKO_NSS_TRUST"
        and obj.get("CKA_TRUST_SERVER_AUTH") == "CKT_NSS_TRUSTED_DELEGATOR"
    }
    count = 0
    for obj in objects:
        if obj.get("CKA_CLASS") != "CKO_CERTIFICATE":
            continue
        if obj.get("CKA_LABEL") not in trusted:
            continue
        der = obj["CKA_VALUE"]
        encoded = "\n".join(textwrap.wrap(base64.b64encode(der).decode("ascii"), 64))
        sys.stdout.write(f"# {obj['CKA_LABEL']}\n")
        sys.stdout.write(f"-----BEGIN CERTIFICATE-----\n{encoded}\n-----END CERTIFICATE-----\n")
        count += 1
    if count == 0:
        sys.exit(f"no trusted certificates found in {path}")


if __name__ == "__main__":
    main(sys.argv[1])
