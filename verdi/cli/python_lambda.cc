#include "verdi/cli/python_lambda.h"

#include <chrono>
#include <vector>

#include <fmt/format.h>

#include "verdi/process/command_output.h"

namespace verdi {
namespace {

// The lambda, the value and the helpers come in on stdin; the result goes
// out as JSON on stdout, an exception as "<type>:<message>" on stderr.
constexpr const char* kScript = R"py(
import functools, json, os.path, sys

def get_best_url(urls, best_prefix=None):
    best = None
    for url in urls:
        if best_prefix is not None and url.startswith(best_prefix):
            return url
        if best is None or (not url.startswith("http") and best.startswith("http")):
            best = url
    return best

def get_partial_products(ident, base_url, product_relative_paths):
    return [{"url": os.path.join(base_url, rel), "local_path": os.path.join(ident, rel)}
            for rel in product_relative_paths]

def region_to_bbox(region):
    lats = [p[1] for shape in region.get("coordinates") for p in shape]
    lons = [p[0] for shape in region.get("coordinates") for p in shape]
    return [min([90] + lats), max([-90] + lats), min([360] + lons), max([-360] + lons)]

request = json.load(sys.stdin)
namespace = {"functools": functools, "get_best_url": get_best_url,
             "get_partial_products": get_partial_products, "region_to_bbox": region_to_bbox}
try:
    result = eval(request["lambda"], namespace, {})(request["value"])
    text = json.dumps(result, allow_nan=False)
except Exception as e:
    sys.stderr.write("%s:%s" % (type(e), e))
    sys.exit(3)
sys.stdout.write(text)
)py";

}  // namespace

Status RunPythonLambda(const HysdsIoParam& wire, const Json& value, Json* out) {
  std::vector<std::string> argv = {"python3", "-c", kScript};
  Json request = {{"lambda", wire.lambda.value_or("")}, {"value", value}};
  CommandOutput result;
  VERDI_RETURN_IF_ERROR(RunCommandOutput(argv, request.dump(), std::chrono::seconds(60), &result));
  if (result.exit_code == 3)
    return Status::Invalid(
        fmt::format("failed to run lambda function to fill {}. {}", wire.name, result.err));
  if (result.exit_code != 0 || result.timed_out)
    return Status::Failed(DescribeFailure({"python3"}, result));
  return ParseJsonText(result.out, "the lambda's result", out);
}

}  // namespace verdi
