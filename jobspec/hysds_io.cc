#include "jobspec/hysds_io.h"

#include <array>

#include <fmt/format.h>

namespace verdi {
namespace {

constexpr std::array<std::string_view, 13> kTypes = {
    "text",   "number",          "datetime",       "date",   "boolean",
    "enum",   "email",           "textarea",       "region", "container_version",
    "object", "jobspec_version", "hysdsio_version"};

bool IsVersionType(std::string_view type) {
  return type == "container_version" || type == "jobspec_version" || type == "hysdsio_version";
}

// One of `choices`, else the field's error listing them.
Status GetChoice(const JsonField& field, std::initializer_list<std::string_view> choices,
                 std::string* out) {
  std::string text;
  VERDI_RETURN_IF_ERROR(field.GetOptionalString(&text));
  if (field.missing()) return Status::OK();
  std::string expected;
  for (std::string_view choice : choices) {
    if (choice == text) {
      *out = text;
      return Status::OK();
    }
    expected += fmt::format("{}\"{}\"", expected.empty() ? "" : " or ", choice);
  }
  return field.Error(expected);
}

Status ParseOptionalFlag(const JsonField& field, bool* out) {
  if (field.missing()) return Status::OK();
  const Json& v = field.value();
  if (v.is_boolean()) {
    *out = v.get<bool>();
    return Status::OK();
  }
  if (v == "true" || v == "false") {
    *out = v == "true";
    return Status::OK();
  }
  return field.Error("true or false");
}

Status ParseParam(const JsonField& field, HysdsIoParam* param) {
  VERDI_RETURN_IF_ERROR(field.ExpectObject());
  param->path = field.path();
  VERDI_RETURN_IF_ERROR(field["name"].GetString(&param->name));
  if (param->name.empty()) return field["name"].Error("a param name");

  JsonField from = field["from"];
  VERDI_RETURN_IF_ERROR(from.GetString(&param->from));
  if (ClassifyFrom(param->from) == FromForm::kRefused) return from.Error(kFromForms);

  // A present null is a value too: HySDS tests `"value" in param`.
  if (field["value"].present()) param->value = field["value"].value();
  if (param->from == "value" && !param->value)
    return field["value"].Error("the fixed value (from is \"value\")");

  JsonField type = field["type"];
  VERDI_RETURN_IF_ERROR(type.GetOptionalString(&param->type));
  bool known = false;
  for (std::string_view t : kTypes) known = known || t == param->type;
  if (!known) {
    std::string expected;
    for (std::string_view t : kTypes)
      expected += fmt::format("{}{}", expected.empty() ? "" : ", ", t);
    return type.Error("one of " + expected);
  }
  if (param->type == "enum") {
    std::vector<std::string> enumerables;
    VERDI_RETURN_IF_ERROR(field["enumerables"].GetStringList(&enumerables));
  }
  if (IsVersionType(param->type)) {
    std::string regex;
    VERDI_RETURN_IF_ERROR(field["version_regex"].GetString(&regex));
  }

  if (!field["default"].missing()) param->default_value = field["default"].value();
  VERDI_RETURN_IF_ERROR(ParseOptionalFlag(field["optional"], &param->optional));

  JsonField lambda = field["lambda"];
  if (!lambda.missing()) {
    std::string text;
    VERDI_RETURN_IF_ERROR(lambda.GetString(&text));
    if (!text.starts_with("lambda ") && !text.starts_with("lambda:"))
      return lambda.Error("a Python lambda expression (\"lambda x: ...\")");
    param->lambda = text;
  }
  std::string ignored;
  VERDI_RETURN_IF_ERROR(field["placeholder"].GetOptionalString(&ignored));
  return Status::OK();
}

}  // namespace

FromForm ClassifyFrom(std::string_view from) {
  if (from == "value" || from == "submitter" || from == "passthrough" ||
      from.starts_with("dataset_jpath:"))
    return FromForm::kKnown;
  // The schema's pattern "(passthrough|value|submitter|dataset_jpath\\:.*)",
  // which jsonschema searches for anywhere in the text.
  for (std::string_view word : {"passthrough", "value", "submitter", "dataset_jpath:"})
    if (from.find(word) != std::string_view::npos) return FromForm::kDefaultOnly;
  return FromForm::kRefused;
}

const HysdsIoParam* HysdsIo::Find(std::string_view name) const {
  for (const HysdsIoParam& param : params)
    if (param.name == name) return &param;
  return nullptr;
}

Status ParseHysdsIo(const JsonField& field, HysdsIo* io) {
  VERDI_RETURN_IF_ERROR(field.ExpectObject());
  HysdsIo out;
  VERDI_RETURN_IF_ERROR(field["label"].GetOptionalString(&out.label));
  VERDI_RETURN_IF_ERROR(GetChoice(field["component"], {"tosca", "figaro"}, &out.component));
  VERDI_RETURN_IF_ERROR(
      GetChoice(field["submission_type"], {"iteration", "individual"}, &out.submission_type));
  VERDI_RETURN_IF_ERROR(field["enable_dedup"].GetOptionalBool(&out.enable_dedup));
  VERDI_RETURN_IF_ERROR(field["allowed_accounts"].GetOptionalStringList(&out.allowed_accounts));

  JsonField params = field["params"];
  VERDI_RETURN_IF_ERROR(params.ExpectArray());
  for (size_t i = 0; i < params.size(); ++i) {
    HysdsIoParam param;
    VERDI_RETURN_IF_ERROR(ParseParam(params.at(i), &param));
    out.params.push_back(std::move(param));
  }
  *io = std::move(out);
  return Status::OK();
}

}  // namespace verdi
