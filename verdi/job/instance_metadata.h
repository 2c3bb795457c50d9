// The EC2 facts HySDS puts in job_info.facts (`ec2_*`), read from the
// instance metadata service as the AWS SDKs reach it.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace verdi {

/// Where the service is: AWS_EC2_METADATA_SERVICE_ENDPOINT, else
/// http://169.254.169.254; empty when AWS_EC2_METADATA_DISABLED is "true"
/// (any case), as the SDKs read them.
std::string InstanceMetadataEndpoint();

/// ec2_instance_id, ec2_instance_type, ec2_placement_availability_zone,
/// ec2_public_hostname and ec2_public_ipv4: those the service at `endpoint`
/// answers (200) within `timeout` each. A session token is asked first
/// (IMDSv2, `PUT /latest/api/token`) and sent with each request; a service
/// that refuses tokens is asked without. One that does not answer the first
/// request is not asked again: nothing is returned.
std::map<std::string, std::string> ReadInstanceMetadata(const std::string& endpoint,
                                                        std::chrono::milliseconds timeout);

}  // namespace verdi
