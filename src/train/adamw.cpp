#include "train/adamw.hpp"

#include <cmath>
#include <numbers>

namespace inference::train {

double learning_rate_at(const OptimizerConfig& config, int64_t step, int64_t total_steps) {
  if (config.warmup_steps > 0 && step <= config.warmup_steps)
    return config.learning_rate * static_cast<double>(step) /
           static_cast<double>(config.warmup_steps);
  if (config.schedule != "cosine") return config.learning_rate;
  const int64_t decay = std::max<int64_t>(1, total_steps - config.warmup_steps);
  const double progress =
      std::min(1.0, static_cast<double>(step - config.warmup_steps) / static_cast<double>(decay));
  return config.learning_rate * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

template <typename T>
double adamw_step(TrainableLora<T>& lora, const OptimizerConfig& config, int64_t step,
                  double learning_rate) {
  double sum = 0;
  for (auto& layer : lora.layers) {
    for (auto& m : layer) {
      if (!m) continue;
      for (T g : m->grad_a) sum += static_cast<double>(g) * g;
      for (T g : m->grad_b) sum += static_cast<double>(g) * g;
    }
  }
  const double norm = std::sqrt(sum);
  const double clip =
      config.clip_norm > 0 && norm > config.clip_norm ? config.clip_norm / norm : 1.0;
  const double c1 = 1.0 - std::pow(config.beta1, static_cast<double>(step));
  const double c2 = 1.0 - std::pow(config.beta2, static_cast<double>(step));
  auto update = [&](std::vector<T>& p, const std::vector<T>& g, std::vector<T>& m,
                    std::vector<T>& v) {
    for (size_t i = 0; i < p.size(); ++i) {
      const double grad = static_cast<double>(g[i]) * clip;
      const double mi = config.beta1 * m[i] + (1 - config.beta1) * grad;
      const double vi = config.beta2 * v[i] + (1 - config.beta2) * grad * grad;
      m[i] = static_cast<T>(mi);
      v[i] = static_cast<T>(vi);
      const double adam = (mi / c1) / (std::sqrt(vi / c2) + config.epsilon);
      p[i] = static_cast<T>(p[i] - learning_rate * (adam + config.weight_decay * p[i]));
    }
  };
  for (auto& layer : lora.layers) {
    for (auto& m : layer) {
      if (!m) continue;
      update(m->a, m->grad_a, m->m_a, m->v_a);
      update(m->b, m->grad_b, m->m_b, m->v_b);
    }
  }
  return norm;
}

template double adamw_step(TrainableLora<float>&, const OptimizerConfig&, int64_t, double);
template double adamw_step(TrainableLora<double>&, const OptimizerConfig&, int64_t, double);

}  // namespace inference::train
