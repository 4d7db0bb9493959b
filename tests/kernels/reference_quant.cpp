#include "reference_quant.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "support/testdata.hpp"

namespace inference::kernels::test {

ReferenceQuantFile load_reference_quant(const std::string& type_name) {
  const auto dir = inference::test::testdata_dir() / "quant";
  const auto header =
      nlohmann::json::parse(inference::test::read_file(dir / (type_name + ".gguf.json")));
  ReferenceQuantFile file;
  file.bytes = inference::test::read_file(dir / (type_name + ".gguf"));
  const uint64_t data_offset = header.at("tensor_data_offset").get<uint64_t>();
  for (const auto& t : header.at("tensors")) {
    ReferenceQuantTensor tensor;
    tensor.name = t.at("name").get<std::string>();
    tensor.type = static_cast<GgmlType>(t.at("type_id").get<uint32_t>());
    tensor.cols = t.at("ne")[0].get<int64_t>();
    tensor.rows = t.at("ne")[1].get<int64_t>();
    const uint64_t n_bytes = t.at("n_bytes").get<uint64_t>();
    const uint64_t offset = data_offset + t.at("offset").get<uint64_t>();
    if (tensor.rows <= 0 || offset + n_bytes > file.bytes.size()) {
      throw std::runtime_error(type_name + ".gguf: tensor " + tensor.name + " outside the file");
    }
    tensor.row_bytes = n_bytes / static_cast<uint64_t>(tensor.rows);
    tensor.data = file.bytes.data() + offset;
    file.tensors.push_back(std::move(tensor));
  }
  return file;
}

}  // namespace inference::kernels::test
