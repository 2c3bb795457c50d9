#include "verdi/worker/consumers.h"

#include "base/log.h"

namespace verdi {

Status Consumers::Declare(AmqpLink* link) {
  for (const auto& queue : queues_) {
    bool passive = false;
    VERDI_RETURN_IF_ERROR(link->DeclareQueue(queue, &passive));
  }
  return Status::OK();
}

Status Consumers::Consume(AmqpLink* link) {
  tags_.assign(queues_.size(), "");
  for (size_t i = 0; i < queues_.size(); ++i)
    VERDI_RETURN_IF_ERROR(link->Consume(queues_[i].name, &tags_[i]));
  return Status::OK();
}

void Consumers::Add(AmqpLink* link, const std::string& name) {
  tags_.resize(queues_.size());
  size_t i = 0;
  while (i < queues_.size() && queues_[i].name != name) ++i;
  if (i < queues_.size() && !tags_[i].empty()) return;
  QueueSpec spec{name};
  bool passive = false;
  std::string tag;
  Status st = link->DeclareQueue(spec, &passive);
  if (st.ok()) st = link->Consume(name, &tag);
  if (!st.ok()) return LogWarning("add_consumer {}: {}", name, st.message());
  if (i == queues_.size()) {
    queues_.push_back(spec);
    tags_.emplace_back();
  }
  tags_[i] = tag;
}

void Consumers::Cancel(AmqpLink* link, const std::string& name) {
  for (size_t i = 0; i < queues_.size() && i < tags_.size(); ++i)
    if (queues_[i].name == name && !tags_[i].empty()) {
      link->Cancel(tags_[i]);
      tags_[i].clear();
    }
}

void Consumers::CancelAll(AmqpLink* link) {
  if (link->connected())
    for (const auto& tag : tags_)
      if (!tag.empty()) link->Cancel(tag);
  tags_.clear();
}

std::vector<ControlQueue> Consumers::Active() const {
  std::vector<ControlQueue> active;
  for (size_t i = 0; i < queues_.size() && i < tags_.size(); ++i)
    if (!tags_[i].empty()) active.push_back({queues_[i].name, queues_[i].arguments});
  return active;
}

std::string Consumers::Names() const {
  std::string names;
  for (const auto& q : queues_) names += (names.empty() ? "" : ",") + q.name;
  return names;
}

}  // namespace verdi
