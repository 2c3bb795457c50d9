#include "verdi/job/host_facts.h"

#include <cstdlib>
#include <cstring>

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/log.h"
#include "verdi/job/instance_metadata.h"

namespace verdi {
namespace {

std::string EnvOr(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

HostFacts ReadFacts() {
  HostFacts facts;
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) == 0) facts.hostname = name;
  if (facts.hostname.empty()) facts.hostname = "localhost";

  std::string canonical = facts.hostname;
  std::string address = "127.0.0.1";
  struct addrinfo hints = {};
  hints.ai_family = AF_INET;
  hints.ai_flags = AI_CANONNAME;
  struct addrinfo* found = nullptr;
  if (getaddrinfo(facts.hostname.c_str(), nullptr, &hints, &found) == 0 && found != nullptr) {
    if (found->ai_canonname != nullptr) canonical = found->ai_canonname;
    char text[INET_ADDRSTRLEN] = {};
    auto* in = reinterpret_cast<struct sockaddr_in*>(found->ai_addr);
    if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) != nullptr) address = text;
    freeaddrinfo(found);
  }
  facts.fqdn = EnvOr("FACTER_fqdn", canonical);
  facts.ipaddress = EnvOr("FACTER_ipaddress", EnvOr("FACTER_ipaddress_eth0", address));

  struct utsname uts;
  facts.architecture = uname(&uts) == 0 ? uts.machine : "unknown";
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  facts.processor_count = cpus > 0 ? static_cast<int>(cpus) : 1;

  std::string endpoint = InstanceMetadataEndpoint();
  facts.ec2 = ReadInstanceMetadata(endpoint, std::chrono::seconds(1));
  if (!facts.ec2.empty()) LogInfo("instance metadata at {}: {}", endpoint, Json(facts.ec2).dump());
  auto ec2 = [&](const char* name, const std::string& fallback) {
    auto it = facts.ec2.find(name);
    return it != facts.ec2.end() ? it->second : fallback;
  };
  facts.execute_node = ec2("ec2_public_hostname", ec2("ec2_public_ipv4", facts.fqdn));
  facts.public_ip = ec2("ec2_public_ipv4", facts.ipaddress);
  return facts;
}

}  // namespace

Json HostFacts::ToJson() const {
  Json out = {{"hostname", hostname},         {"fqdn", fqdn},
              {"architecture", architecture}, {"processorcount", processor_count},
              {"ipaddress", ipaddress},       {"hysds_execute_node", execute_node},
              {"hysds_public_ip", public_ip}};
  for (const auto& [name, value] : ec2) out[name] = value;
  return out;
}

const HostFacts& GetHostFacts() {
  static const HostFacts facts = ReadFacts();
  return facts;
}

}  // namespace verdi
