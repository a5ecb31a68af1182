//! Hugging Face chat templates rendered with minijinja, configured as
//! transformers configures Jinja (`trim_blocks`, `lstrip_blocks`, Python string
//! methods, `raise_exception`, `strftime_now`).

use gauntlet_evals::ChatMessage;
use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::{context, Environment, Error, ErrorKind};

use crate::error::{ModelError, Result};

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
        let mut env = Environment::new();
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
        tmpl.render(context! {
            messages => Value::from(Serde(messages)),
            add_generation_prompt => add_generation_prompt,
            bos_token => self.bos_token.clone().unwrap_or_default(),
            eos_token => self.eos_token.clone().unwrap_or_default(),
        })
        .map_err(|e| ModelError::ChatTemplate(format!("{e:#}")))
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
    fn syntax_error_is_reported() {
        assert!(ChatTemplate::new("{% for %}", None, None).is_err());
    }
}
