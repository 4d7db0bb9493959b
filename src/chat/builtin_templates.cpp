// The built-in chat formats, written as Jinja for our interpreter (rendered exactly like a
// model's own template). Each reproduces its family's published prompt format; the tests check
// them against the reference renderings of the real model templates for every conversation
// without tools.
#include "chat/builtin_templates.hpp"

namespace inference::chat {
namespace {

// Gemma 3: turns are <start_of_turn>user|model; a system message is folded into the first user
// turn; contents are trimmed; text parts of multi-part contents are concatenated.
constexpr std::string_view kGemma3 = R"JINJA({{- bos_token -}}
{%- set ns = namespace(prefix='', start=0) -%}
{%- if messages and messages[0].role == 'system' -%}
  {%- set system = messages[0].content -%}
  {%- if system is not string -%}{%- set system = system[0].text -%}{%- endif -%}
  {%- set ns.prefix = system ~ '\n\n' -%}
  {%- set ns.start = 1 -%}
{%- endif -%}
{%- for message in messages[ns.start:] -%}
  {%- if (message.role == 'user') != (loop.index0 % 2 == 0) -%}
    {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') -}}
  {%- endif -%}
  {{- '<start_of_turn>' ~ ('model' if message.role == 'assistant' else message.role) ~ '\n' -}}
  {%- if loop.first -%}{{- ns.prefix -}}{%- endif -%}
  {%- if message.content is string -%}
    {{- message.content | trim -}}
  {%- else -%}
    {%- for part in message.content -%}
      {%- if part.type == 'image' -%}{{- '<start_of_image>' -}}
      {%- elif part.type == 'text' -%}{{- part.text | trim -}}{%- endif -%}
    {%- endfor -%}
  {%- endif -%}
  {{- '<end_of_turn>\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<start_of_turn>model\n' -}}{%- endif -%})JINJA";

// Llama 3.1/3.2: header-delimited turns, a system turn that always carries the knowledge-cutoff
// and date lines, trimmed contents.
constexpr std::string_view kLlama3 = R"JINJA({{- bos_token -}}
{%- if date_string is not defined -%}{%- set date_string = '26 Jul 2024' -%}{%- endif -%}
{%- set ns = namespace(system='', start=0) -%}
{%- if messages and messages[0].role == 'system' -%}
  {%- set ns.system = messages[0].content | trim -%}
  {%- set ns.start = 1 -%}
{%- endif -%}
{{- '<|start_header_id|>system<|end_header_id|>\n\n' -}}
{{- 'Cutting Knowledge Date: December 2023\nToday Date: ' ~ date_string ~ '\n\n' -}}
{{- ns.system ~ '<|eot_id|>' -}}
{%- for message in messages[ns.start:] -%}
  {{- '<|start_header_id|>' ~ message.role ~ '<|end_header_id|>\n\n' ~ (message.content | trim) ~ '<|eot_id|>' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}{%- endif -%})JINJA";

// Mistral v0.3 ([INST]): user turns in [INST]…[/INST], assistant turns followed by EOS, the
// system message prepended to the last user turn; roles must alternate.
constexpr std::string_view kMistral = R"JINJA({%- set ns = namespace(start=0, index=0) -%}
{%- if messages and messages[0].role == 'system' -%}
  {%- set system_message = messages[0].content -%}
  {%- set ns.start = 1 -%}
{%- endif -%}
{%- set loop_messages = messages[ns.start:] -%}
{%- for message in loop_messages -%}
  {%- if (message.role == 'user') != (loop.index0 % 2 == 0) -%}
    {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') -}}
  {%- endif -%}
{%- endfor -%}
{{- bos_token -}}
{%- for message in loop_messages -%}
  {%- if message.role == 'user' -%}
    {%- if loop.last and system_message is defined -%}
      {{- '[INST] ' ~ system_message ~ '\n\n' ~ message.content ~ '[/INST]' -}}
    {%- else -%}
      {{- '[INST] ' ~ message.content ~ '[/INST]' -}}
    {%- endif -%}
  {%- elif message.role == 'assistant' -%}
    {{- ' ' ~ (message.content | trim) ~ eos_token -}}
  {%- else -%}
    {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') -}}
  {%- endif -%}
{%- endfor -%})JINJA";

// ChatML as Qwen 2.5 uses it: a default system turn when none is given.
constexpr std::string_view kChatml = R"JINJA({%- if not messages or messages[0].role != 'system' -%}
  {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' -}}
{%- endif -%}
{%- for message in messages -%}
  {{- '<|im_start|>' ~ message.role ~ '\n' ~ message.content ~ '<|im_end|>\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%})JINJA";

}  // namespace

std::optional<std::string_view> builtin_template_source(std::string_view name) {
  if (name == "gemma3") return kGemma3;
  if (name == "llama3") return kLlama3;
  if (name == "mistral") return kMistral;
  if (name == "chatml") return kChatml;
  return std::nullopt;
}

}  // namespace inference::chat
