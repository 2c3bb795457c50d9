// Facts about the machine a job runs on, for job_info.
#pragma once

#include <map>
#include <string>

#include "jobspec/json_field.h"

namespace verdi {

struct HostFacts {
  std::string hostname;      // gethostname()
  std::string fqdn;          // canonical name of hostname, else hostname
  std::string architecture;  // uname -m
  std::string ipaddress;     // FACTER_ipaddress, else the address hostname resolves to
  int processor_count = 0;
  /// The ec2_* facts the instance metadata service gave (instance_metadata.h).
  std::map<std::string, std::string> ec2;
  /// hysds_execute_node: ec2_public_hostname, else ec2_public_ipv4, else fqdn.
  std::string execute_node;
  /// hysds_public_ip: ec2_public_ipv4, else ipaddress.
  std::string public_ip;

  /// job_info.facts: hostname, fqdn, architecture, processorcount, ipaddress,
  /// the ec2_* facts, hysds_execute_node, hysds_public_ip.
  Json ToJson() const;
};

/// Reads the facts once per process (they do not change while it runs; the
/// worker and run_job read them at start). FACTER_fqdn and FACTER_ipaddress
/// override, as HySDS's facter does. The instance metadata service is asked
/// then, once, 1 s at most per request (InstanceMetadataEndpoint: nothing
/// when AWS_EC2_METADATA_DISABLED is true); no public-IP lookup.
const HostFacts& GetHostFacts();

}  // namespace verdi
