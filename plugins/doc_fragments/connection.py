# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The connection options every module of the collection takes (argument spec:
    # plugins/module_utils/http_common.py connection_argument_spec). The same names in all modules let
    # users set them once for group/dtr.cache.dtr in module_defaults.
    DOCUMENTATION = r"""
options:
  timeout:
    description:
      - How many seconds the module may spend talking to servers, as one deadline for the whole run. Connecting, TLS
        handshakes, sending requests and reading answers all count against it, not each network read on its own.
      - A server that answers slowly, a byte at a time say, makes the module fail with RV(failure_kind=timeout) at the
        deadline instead of holding it.
    type: int
    default: 30
  use_proxy:
    description:
      - Whether to use the proxy from the C(https_proxy) and C(no_proxy) environment variables.
    type: bool
    default: true
  validate_certs:
    description:
      - Whether to verify the server certificate and host name.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA certificates that must have issued the server certificate.
      - Only these are trusted when set; without O(ca_path) and O(ca_content) the system trust store is used.
      - Ignored, with a warning, when O(validate_certs=false).
      - Mutually exclusive with O(ca_content).
    type: path
  ca_content:
    description:
      - The same as O(ca_path), given as PEM text instead of a file, for example the C(pem) that M(dtr.cache.dtr_ca)
        returns. No temporary file is needed.
      - Mutually exclusive with O(ca_path).
    type: str
"""
