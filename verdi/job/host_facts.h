// Facts about the machine a job runs on, for job_info.
#pragma once

#include <string>

#include "jobspec/json_field.h"

namespace verdi {

struct HostFacts {
  std::string hostname;      // gethostname()
  std::string fqdn;          // canonical name of hostname, else hostname
  std::string architecture;  // uname -m
  std::string public_ip;     // FACTER_ipaddress, else the address hostname resolves to
  int processor_count = 0;

  /// job_info.facts: hostname, fqdn, architecture, processorcount, ipaddress,
  /// hysds_execute_node, hysds_public_ip.
  Json ToJson() const;
};

/// Reads the facts once per process (they do not change while it runs).
/// FACTER_fqdn and FACTER_ipaddress override, as HySDS's facter does.
/// Never touches the network: no EC2 metadata, no public-IP lookup.
const HostFacts& GetHostFacts();

}  // namespace verdi
