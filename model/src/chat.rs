//! Hugging Face chat templates rendered with minijinja, configured as
//! transformers configures Jinja (`trim_blocks`, `lstrip_blocks`, Python string
//! methods, `raise_exception`, `strftime_now`).
//!
//! A template is a miner's program: each rendering runs on a fuel budget
//! ([`TEMPLATE_FUEL`] instructions) and writes into a buffer that refuses more
//! than [`MAX_RENDERED_BYTES`], so neither a runaway loop nor a template that
//! renders megabytes can stall or exhaust a validator.

use gauntlet_evals::ChatMessage;
use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::{context, Environment, Error, ErrorKind};

use crate::error::{ModelError, Result};
use crate::limits::{MAX_RENDERED_BYTES, MAX_TEMPLATE_BYTES, TEMPLATE_FUEL};

/// A compiled chat template with the special tokens it may refer to.
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: Option<String>,
    eos_token: Option<String>,
}

const NAME: &str = "chat";

impl ChatTemplate {
    /// Compiles `source`.
    pub fn new(source: &str, bos_token: Option<String>, eos_token: Option<String>) -> Result<Self> {
        if source.len() as u64 > MAX_TEMPLATE_BYTES {
            return Err(ModelError::TemplateLimit(format!(
                "the template is {} bytes, more than the {MAX_TEMPLATE_BYTES} allowed",
                source.len()
            )));
        }
        let mut env = Environment::new();
        env.set_fuel(Some(TEMPLATE_FUEL));
        let syntax = SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| ModelError::ChatTemplate(e.to_string()))?;
        env.set_syntax(syntax);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        minijinja_contrib::add_to_environment(&mut env);
        env.add_function(
            "raise_exception",
            |msg: String| -> std::result::Result<String, Error> {
                Err(Error::new(ErrorKind::InvalidOperation, msg))
            },
        );
        env.add_function("strftime_now", |_fmt: String| -> String {
            // Deterministic on purpose: rendering must not depend on the clock.
            "01 Jan 2026".to_string()
        });
        env.add_template_owned(NAME, source.to_string())
            .map_err(|e| ModelError::ChatTemplate(format!("{e:#}")))?;
        Ok(Self {
            env,
            bos_token,
            eos_token,
        })
    }

    /// Renders `messages`, appending the assistant prompt when asked.
    pub fn render(&self, messages: &[ChatMessage], add_generation_prompt: bool) -> Result<String> {
        let tmpl = self
            .env
            .get_template(NAME)
            .map_err(|e| ModelError::ChatTemplate(e.to_string()))?;
        let mut out = CappedBuffer::default();
        let rendered = tmpl.render_captured_to(
            context! {
                messages => Value::from(Serde(messages)),
                add_generation_prompt => add_generation_prompt,
                bos_token => self.bos_token.clone().unwrap_or_default(),
                eos_token => self.eos_token.clone().unwrap_or_default(),
            },
            &mut out,
        );
        if out.overflowed {
            return Err(ModelError::TemplateLimit(format!(
                "the rendered conversation is longer than {MAX_RENDERED_BYTES} bytes"
            )));
        }
        rendered.map_err(|e| match e.kind() {
            ErrorKind::OutOfFuel => ModelError::TemplateLimit(format!(
                "the template ran out of fuel ({TEMPLATE_FUEL} instructions)"
            )),
            _ => ModelError::ChatTemplate(format!("{e:#}")),
        })?;
        String::from_utf8(out.bytes)
            .map_err(|_| ModelError::ChatTemplate("the rendered text is not UTF-8".into()))
    }
}

/// The rendering's output: refuses to grow past [`MAX_RENDERED_BYTES`].
#[derive(Default)]
struct CappedBuffer {
    bytes: Vec<u8>,
    overflowed: bool,
}

impl std::io::Write for CappedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_RENDERED_BYTES {
            self.overflowed = true;
            return Err(std::io::Error::other("rendered text too long"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msgs() -> Vec<ChatMessage> {
        vec![ChatMessage::system("Be brief."), ChatMessage::user("Hi?")]
    }

    #[test]
    fn chatml_renders_with_generation_prompt() {
        let src = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
        let t = ChatTemplate::new(src, None, None).expect("compiles");
        let out = t.render(&msgs(), true).expect("renders");
        assert_eq!(
            out,
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi?<|im_end|>\n<|im_start|>assistant\n"
        );
        assert!(!t
            .render(&msgs(), false)
            .expect("renders")
            .ends_with("assistant\n"));
    }

    #[test]
    fn llama3_style_uses_bos_and_strip() {
        let src = "{{- bos_token }}{%- for message in messages %}{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}";
        let t = ChatTemplate::new(src, Some("<|begin_of_text|>".into()), None).expect("compiles");
        let out = t
            .render(&[ChatMessage::user(" Hi? ")], true)
            .expect("renders");
        assert_eq!(
            out,
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
        );
    }

    #[test]
    fn mistral_style_raises_on_bad_roles_and_uses_python_methods() {
        let src = "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'].strip() + ' [/INST]' }}{% else %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}";
        let t = ChatTemplate::new(src, Some("<s>".into()), Some("</s>".into())).expect("compiles");
        assert_eq!(
            t.render(&[ChatMessage::user(" Hi ")], true)
                .expect("renders"),
            "<s>[INST] Hi [/INST]"
        );
        let err = t
            .render(&msgs(), true)
            .expect_err("system first is refused");
        assert!(err.to_string().contains("roles must alternate"), "{err}");
    }

    #[test]
    fn gemma_style_maps_assistant_to_model() {
        let src = "{{ bos_token }}{% for message in messages %}{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}";
        let t = ChatTemplate::new(src, Some("<bos>".into()), None).expect("compiles");
        let out = t
            .render(
                &[
                    ChatMessage::user("Q"),
                    ChatMessage {
                        role: "assistant".into(),
                        content: "A".into(),
                    },
                ],
                true,
            )
            .expect("renders");
        assert_eq!(
            out,
            "<bos><start_of_turn>user\nQ<end_of_turn>\n<start_of_turn>model\nA<end_of_turn>\n<start_of_turn>model\n"
        );
    }

    #[test]
    fn a_runaway_template_runs_out_of_fuel_quickly() {
        let src = "{% for a in range(10000) %}{% for b in range(10000) %}{% for c in range(10000) %}x{% endfor %}{% endfor %}{% endfor %}";
        let t = ChatTemplate::new(src, None, None).expect("compiles");
        let start = std::time::Instant::now();
        let err = t.render(&msgs(), true).expect_err("out of fuel");
        assert!(err.to_string().contains("fuel"), "{err}");
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn a_template_rendering_100_megabytes_is_cut_off() {
        for src in [
            "{% for i in range(10000) %}{{ 'x' * 10000 }}{% endfor %}",
            "{{ 'x' * 100000000 }}",
        ] {
            let t = ChatTemplate::new(src, None, None).expect("compiles");
            let err = t.render(&msgs(), true).expect_err("too long");
            assert!(err.to_string().contains("longer than"), "{src}: {err}");
        }
        let huge = "x".repeat(MAX_TEMPLATE_BYTES as usize + 1);
        assert!(ChatTemplate::new(&huge, None, None).is_err());
    }

    #[test]
    fn syntax_error_is_reported() {
        assert!(ChatTemplate::new("{% for %}", None, None).is_err());
    }
}
