#include "verdi/cli/celery_setting_names.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace verdi {
namespace {

struct Rename {
  std::string_view old_name, new_name;
};

// Celery 5's table (celery/app/defaults.py, v5.6), old name -> new name, sorted.
constexpr Rename kRenames[] = {
    {"AZUREBLOCKBLOB_BASE_PATH", "azureblockblob_base_path"},
    {"AZUREBLOCKBLOB_CONNECTION_TIMEOUT", "azureblockblob_connection_timeout"},
    {"AZUREBLOCKBLOB_CONTAINER_NAME", "azureblockblob_container_name"},
    {"AZUREBLOCKBLOB_READ_TIMEOUT", "azureblockblob_read_timeout"},
    {"AZUREBLOCKBLOB_RETRY_INCREMENT_BASE", "azureblockblob_retry_increment_base"},
    {"AZUREBLOCKBLOB_RETRY_INITIAL_BACKOFF_SEC", "azureblockblob_retry_initial_backoff_sec"},
    {"AZUREBLOCKBLOB_RETRY_MAX_ATTEMPTS", "azureblockblob_retry_max_attempts"},
    {"BROKER_CHANNEL_ERROR_RETRY", "broker_channel_error_retry"},
    {"BROKER_CONNECTION_MAX_RETRIES", "broker_connection_max_retries"},
    {"BROKER_CONNECTION_RETRY", "broker_connection_retry"},
    {"BROKER_CONNECTION_RETRY_ON_STARTUP", "broker_connection_retry_on_startup"},
    {"BROKER_CONNECTION_TIMEOUT", "broker_connection_timeout"},
    {"BROKER_FAILOVER_STRATEGY", "broker_failover_strategy"},
    {"BROKER_HEARTBEAT", "broker_heartbeat"},
    {"BROKER_HEARTBEAT_CHECKRATE", "broker_heartbeat_checkrate"},
    {"BROKER_HOST", "broker_host"},
    {"BROKER_LOGIN_METHOD", "broker_login_method"},
    {"BROKER_NATIVE_DELAYED_DELIVERY_QUEUE_TYPE", "broker_native_delayed_delivery_queue_type"},
    {"BROKER_PASSWORD", "broker_password"},
    {"BROKER_POOL_ACQUIRE_TIMEOUT", "broker_pool_acquire_timeout"},
    {"BROKER_POOL_LIMIT", "broker_pool_limit"},
    {"BROKER_PORT", "broker_port"},
    {"BROKER_READ_URL", "broker_read_url"},
    {"BROKER_TRANSPORT", "broker_transport"},
    {"BROKER_TRANSPORT_OPTIONS", "broker_transport_options"},
    {"BROKER_URL", "broker_url"},
    {"BROKER_USER", "broker_user"},
    {"BROKER_USE_SSL", "broker_use_ssl"},
    {"BROKER_VHOST", "broker_vhost"},
    {"BROKER_WRITE_URL", "broker_write_url"},
    {"CASSANDRA_AUTH_KWARGS", "cassandra_auth_kwargs"},
    {"CASSANDRA_AUTH_PROVIDER", "cassandra_auth_provider"},
    {"CASSANDRA_BUNDLE_PATH", "cassandra_bundle_path"},
    {"CASSANDRA_ENTRY_TTL", "cassandra_entry_ttl"},
    {"CASSANDRA_KEYSPACE", "cassandra_keyspace"},
    {"CASSANDRA_OPTIONS", "cassandra_options"},
    {"CASSANDRA_PORT", "cassandra_port"},
    {"CASSANDRA_READ_CONSISTENCY", "cassandra_read_consistency"},
    {"CASSANDRA_SERVERS", "cassandra_servers"},
    {"CASSANDRA_TABLE", "cassandra_table"},
    {"CASSANDRA_WRITE_CONSISTENCY", "cassandra_write_consistency"},
    {"CELERYBEAT_CRON_STARTING_DEADLINE", "beat_cron_starting_deadline"},
    {"CELERYBEAT_MAX_LOOP_INTERVAL", "beat_max_loop_interval"},
    {"CELERYBEAT_SCHEDULE", "beat_schedule"},
    {"CELERYBEAT_SCHEDULER", "beat_scheduler"},
    {"CELERYBEAT_SCHEDULE_FILENAME", "beat_schedule_filename"},
    {"CELERYBEAT_SYNC_EVERY", "beat_sync_every"},
    {"CELERYD_AGENT", "worker_agent"},
    {"CELERYD_AUTOSCALER", "worker_autoscaler"},
    {"CELERYD_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS",
     "worker_cancel_long_running_tasks_on_connection_loss"},
    {"CELERYD_CONCURRENCY", "worker_concurrency"},
    {"CELERYD_CONSUMER", "worker_consumer"},
    {"CELERYD_DEDUPLICATE_SUCCESSFUL_TASKS", "worker_deduplicate_successful_tasks"},
    {"CELERYD_DETECT_QUORUM_QUEUES", "worker_detect_quorum_queues"},
    {"CELERYD_DISABLE_PREFETCH", "worker_disable_prefetch"},
    {"CELERYD_ENABLE_PREFETCH_COUNT_REDUCTION", "worker_enable_prefetch_count_reduction"},
    {"CELERYD_ENABLE_SOFT_SHUTDOWN_ON_IDLE", "worker_enable_soft_shutdown_on_idle"},
    {"CELERYD_ETA_TASK_LIMIT", "worker_eta_task_limit"},
    {"CELERYD_HIJACK_ROOT_LOGGER", "worker_hijack_root_logger"},
    {"CELERYD_LOG_COLOR", "worker_log_color"},
    {"CELERYD_LOG_FORMAT", "worker_log_format"},
    {"CELERYD_MAX_MEMORY_PER_CHILD", "worker_max_memory_per_child"},
    {"CELERYD_MAX_TASKS_PER_CHILD", "worker_max_tasks_per_child"},
    {"CELERYD_POOL", "worker_pool"},
    {"CELERYD_POOL_PUTLOCKS", "worker_pool_putlocks"},
    {"CELERYD_POOL_RESTARTS", "worker_pool_restarts"},
    {"CELERYD_PREFETCH_MULTIPLIER", "worker_prefetch_multiplier"},
    {"CELERYD_PROC_ALIVE_TIMEOUT", "worker_proc_alive_timeout"},
    {"CELERYD_SOFT_SHUTDOWN_TIMEOUT", "worker_soft_shutdown_timeout"},
    {"CELERYD_STATE_DB", "worker_state_db"},
    {"CELERYD_TASK_LOG_FORMAT", "worker_task_log_format"},
    {"CELERYD_TASK_SOFT_TIME_LIMIT", "task_soft_time_limit"},
    {"CELERYD_TASK_TIME_LIMIT", "task_time_limit"},
    {"CELERYD_TIMER", "worker_timer"},
    {"CELERYD_TIMER_PRECISION", "worker_timer_precision"},
    {"CELERYD_WORKER_LOST_WAIT", "worker_lost_wait"},
    {"CELERY_ACCEPT_CONTENT", "accept_content"},
    {"CELERY_ACKS_LATE", "task_acks_late"},
    {"CELERY_ACKS_ON_FAILURE", "task_acks_on_failure"},
    {"CELERY_ACKS_ON_FAILURE_OR_TIMEOUT", "task_acks_on_failure_or_timeout"},
    {"CELERY_ACKS_ON_TIMEOUT", "task_acks_on_timeout"},
    {"CELERY_ALLOW_ERROR_CB_ON_CHORD_HEADER", "task_allow_error_cb_on_chord_header"},
    {"CELERY_ALWAYS_EAGER", "task_always_eager"},
    {"CELERY_ANNOTATIONS", "task_annotations"},
    {"CELERY_ARANGODB_BACKEND_SETTINGS", "arangodb_backend_settings"},
    {"CELERY_CACHE_BACKEND", "cache_backend"},
    {"CELERY_CACHE_BACKEND_OPTIONS", "cache_backend_options"},
    {"CELERY_COUCHBASE_BACKEND_SETTINGS", "couchbase_backend_settings"},
    {"CELERY_CREATE_MISSING_QUEUES", "task_create_missing_queues"},
    {"CELERY_CREATE_MISSING_QUEUE_EXCHANGE_TYPE", "task_create_missing_queue_exchange_type"},
    {"CELERY_CREATE_MISSING_QUEUE_TYPE", "task_create_missing_queue_type"},
    {"CELERY_DEFAULT_DELIVERY_MODE", "task_default_delivery_mode"},
    {"CELERY_DEFAULT_EXCHANGE", "task_default_exchange"},
    {"CELERY_DEFAULT_EXCHANGE_TYPE", "task_default_exchange_type"},
    {"CELERY_DEFAULT_PRIORITY", "task_default_priority"},
    {"CELERY_DEFAULT_QUEUE", "task_default_queue"},
    {"CELERY_DEFAULT_QUEUE_TYPE", "task_default_queue_type"},
    {"CELERY_DEFAULT_RATE_LIMIT", "task_default_rate_limit"},
    {"CELERY_DEFAULT_ROUTING_KEY", "task_default_routing_key"},
    {"CELERY_DISABLE_RATE_LIMITS", "worker_disable_rate_limits"},
    {"CELERY_EAGER_PROPAGATES_EXCEPTIONS", "task_eager_propagates"},
    {"CELERY_ELASTICSEARCH_MAX_RETRIES", "elasticsearch_max_retries"},
    {"CELERY_ELASTICSEARCH_RETRY_ON_TIMEOUT", "elasticsearch_retry_on_timeout"},
    {"CELERY_ELASTICSEARCH_SAVE_META_AS_TEXT", "elasticsearch_save_meta_as_text"},
    {"CELERY_ELASTICSEARCH_TIMEOUT", "elasticsearch_timeout"},
    {"CELERY_ENABLE_REMOTE_CONTROL", "worker_enable_remote_control"},
    {"CELERY_EVENT_EXCHANGE", "event_exchange"},
    {"CELERY_EVENT_QUEUE_DURABLE", "event_queue_durable"},
    {"CELERY_EVENT_QUEUE_EXCLUSIVE", "event_queue_exclusive"},
    {"CELERY_EVENT_QUEUE_EXPIRES", "event_queue_expires"},
    {"CELERY_EVENT_QUEUE_PREFIX", "event_queue_prefix"},
    {"CELERY_EVENT_QUEUE_TTL", "event_queue_ttl"},
    {"CELERY_EVENT_SERIALIZER", "event_serializer"},
    {"CELERY_IGNORE_RESULT", "task_ignore_result"},
    {"CELERY_IMPORTS", "imports"},
    {"CELERY_INCLUDE", "include"},
    {"CELERY_INHERIT_PARENT_PRIORITY", "task_inherit_parent_priority"},
    {"CELERY_MAX_CACHED_RESULTS", "result_cache_max"},
    {"CELERY_MESSAGE_COMPRESSION", "task_compression"},
    {"CELERY_MONGODB_BACKEND_SETTINGS", "mongodb_backend_settings"},
    {"CELERY_QUEUES", "task_queues"},
    {"CELERY_QUEUE_MAX_PRIORITY", "task_queue_max_priority"},
    {"CELERY_REDIRECT_STDOUTS", "worker_redirect_stdouts"},
    {"CELERY_REDIRECT_STDOUTS_LEVEL", "worker_redirect_stdouts_level"},
    {"CELERY_REDIS_BACKEND_USE_SSL", "redis_backend_use_ssl"},
    {"CELERY_REDIS_DB", "redis_db"},
    {"CELERY_REDIS_HOST", "redis_host"},
    {"CELERY_REDIS_MAX_CONNECTIONS", "redis_max_connections"},
    {"CELERY_REDIS_PASSWORD", "redis_password"},
    {"CELERY_REDIS_PORT", "redis_port"},
    {"CELERY_REDIS_RETRY_ON_TIMEOUT", "redis_retry_on_timeout"},
    {"CELERY_REDIS_SOCKET_CONNECT_TIMEOUT", "redis_socket_connect_timeout"},
    {"CELERY_REDIS_SOCKET_KEEPALIVE", "redis_socket_keepalive"},
    {"CELERY_REDIS_SOCKET_TIMEOUT", "redis_socket_timeout"},
    {"CELERY_REDIS_USERNAME", "redis_username"},
    {"CELERY_REJECT_ON_WORKER_LOST", "task_reject_on_worker_lost"},
    {"CELERY_REMOTE_TRACEBACKS", "task_remote_tracebacks"},
    {"CELERY_RESULT_BACKEND", "result_backend"},
    {"CELERY_RESULT_BACKEND_ALWAYS_RETRY", "result_backend_always_retry"},
    {"CELERY_RESULT_BACKEND_BASE_SLEEP_BETWEEN_RETRIES_MS",
     "result_backend_base_sleep_between_retries_ms"},
    {"CELERY_RESULT_BACKEND_MAX_RETRIES", "result_backend_max_retries"},
    {"CELERY_RESULT_BACKEND_MAX_SLEEP_BETWEEN_RETRIES_MS",
     "result_backend_max_sleep_between_retries_ms"},
    {"CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS", "result_backend_transport_options"},
    {"CELERY_RESULT_CHORD_JOIN_TIMEOUT", "result_chord_join_timeout"},
    {"CELERY_RESULT_CHORD_RETRY_INTERVAL", "result_chord_retry_interval"},
    {"CELERY_RESULT_COMPRESSION", "result_compression"},
    {"CELERY_RESULT_DBURI", "database_url"},
    {"CELERY_RESULT_DB_SHORT_LIVED_SESSIONS", "database_short_lived_sessions"},
    {"CELERY_RESULT_DB_TABLENAMES", "database_table_names"},
    {"CELERY_RESULT_ENGINE_OPTIONS", "database_engine_options"},
    {"CELERY_RESULT_EXCHANGE", "result_exchange"},
    {"CELERY_RESULT_EXCHANGE_TYPE", "result_exchange_type"},
    {"CELERY_RESULT_EXTENDED", "result_extended"},
    {"CELERY_RESULT_PERSISTENT", "result_persistent"},
    {"CELERY_RESULT_SERIALIZER", "result_serializer"},
    {"CELERY_ROUTES", "task_routes"},
    {"CELERY_SECURITY_CERTIFICATE", "security_certificate"},
    {"CELERY_SECURITY_CERT_STORE", "security_cert_store"},
    {"CELERY_SECURITY_DIGEST", "security_digest"},
    {"CELERY_SECURITY_KEY", "security_key"},
    {"CELERY_SECURITY_KEY_PASSWORD", "security_key_password"},
    {"CELERY_SEND_EVENTS", "worker_send_task_events"},
    {"CELERY_SEND_TASK_SENT_EVENT", "task_send_sent_event"},
    {"CELERY_STORE_EAGER_RESULT", "task_store_eager_result"},
    {"CELERY_STORE_ERRORS_EVEN_IF_IGNORED", "task_store_errors_even_if_ignored"},
    {"CELERY_TASK_PROTOCOL", "task_protocol"},
    {"CELERY_TASK_PUBLISH_RETRY", "task_publish_retry"},
    {"CELERY_TASK_PUBLISH_RETRY_POLICY", "task_publish_retry_policy"},
    {"CELERY_TASK_RESULT_EXPIRES", "result_expires"},
    {"CELERY_TASK_SERIALIZER", "task_serializer"},
    {"CELERY_TIMEZONE", "timezone"},
    {"CELERY_TRACK_STARTED", "task_track_started"},
    {"CELERY_WORKER_DIRECT", "worker_direct"},
    {"CONTROL_EXCHANGE", "control_exchange"},
    {"CONTROL_QUEUE_DURABLE", "control_queue_durable"},
    {"CONTROL_QUEUE_EXCLUSIVE", "control_queue_exclusive"},
    {"CONTROL_QUEUE_EXPIRES", "control_queue_expires"},
    {"CONTROL_QUEUE_TTL", "control_queue_ttl"},
    {"COSMOSDBSQL_COLLECTION_NAME", "cosmosdbsql_collection_name"},
    {"COSMOSDBSQL_CONSISTENCY_LEVEL", "cosmosdbsql_consistency_level"},
    {"COSMOSDBSQL_DATABASE_NAME", "cosmosdbsql_database_name"},
    {"COSMOSDBSQL_MAX_RETRY_ATTEMPTS", "cosmosdbsql_max_retry_attempts"},
    {"COSMOSDBSQL_MAX_RETRY_WAIT_TIME", "cosmosdbsql_max_retry_wait_time"},
    {"DATABASE_CREATE_TABLES_AT_SETUP", "database_create_tables_at_setup"},
    {"DATABASE_ENGINE_CALLBACK", "database_engine_callback"},
    {"DATABASE_TABLE_SCHEMAS", "database_table_schemas"},
    {"ENABLE_UTC", "enable_utc"},
    {"GCS_BASE_PATH", "gcs_base_path"},
    {"GCS_BUCKET", "gcs_bucket"},
    {"GCS_PROJECT", "gcs_project"},
    {"GCS_TTL", "gcs_ttl"},
    {"RESULT_ACCEPT_CONTENT", "result_accept_content"},
    {"S3_ACCESS_KEY_ID", "s3_access_key_id"},
    {"S3_BASE_PATH", "s3_base_path"},
    {"S3_BUCKET", "s3_bucket"},
    {"S3_ENDPOINT_URL", "s3_endpoint_url"},
    {"S3_REGION", "s3_region"},
    {"S3_SECRET_ACCESS_KEY", "s3_secret_access_key"},
};

}  // namespace

std::string_view NewCelerySettingName(std::string_view name) {
  auto it = std::lower_bound(std::begin(kRenames), std::end(kRenames), name,
                             [](const Rename& r, std::string_view n) { return r.old_name < n; });
  return it != std::end(kRenames) && it->old_name == name ? it->new_name : std::string_view();
}

bool IsCelerySettingName(std::string_view name) {
  // Every new name has an old one in Celery 5's table.
  return std::any_of(std::begin(kRenames), std::end(kRenames),
                     [&](const Rename& r) { return r.new_name == name; });
}

Status DetectCelerySettings(const std::vector<std::string>& names,
                            std::map<std::string, std::string>* renamed,
                            std::map<std::string, std::string>* unread) {
  renamed->clear();
  unread->clear();
  std::set<std::string, std::less<>> have(names.begin(), names.end());
  std::vector<std::string> in_new, in_old;
  for (const auto& name : have) {
    if (IsCelerySettingName(name)) in_new.push_back(name);
    if (!NewCelerySettingName(name).empty()) in_old.push_back(name);
  }
  bool old_format = in_old.size() > in_new.size();
  // The old name of a new one.
  auto old_of = [](const std::string& name) {
    for (const auto& r : kRenames)
      if (r.new_name == name) return std::string(r.old_name);
    return std::string();
  };
  std::vector<std::string> to_rename;
  for (const auto& name : old_format ? in_new : in_old) {
    std::string counterpart = old_format ? old_of(name) : std::string(NewCelerySettingName(name));
    if (have.count(counterpart))
      (*unread)[name] = counterpart;
    else
      to_rename.push_back(old_format ? fmt::format("{} to {}", name, old_of(name))
                                     : fmt::format("{} to {}", name, counterpart));
  }
  if (!to_rename.empty())
    return Status::Invalid(fmt::format(
        "it mixes Celery's old and new setting names, which Celery refuses: rename {} (the {} "
        "format, which most of its names use)",
        fmt::join(to_rename, ", "), old_format ? "old" : "new"));
  if (old_format)
    for (const auto& name : in_old) (*renamed)[name] = std::string(NewCelerySettingName(name));
  return Status::OK();
}

}  // namespace verdi
