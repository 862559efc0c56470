//! The LiteLLM releases the product knows, as recorded: the demo plays each, the tests run
//! against each.

use clap::ValueEnum;

/// A LiteLLM release the demo plays, as recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Release {
    /// 1.83.14.
    #[value(name = "1.83")]
    V1_83,
    /// 1.106.12.
    #[default]
    #[value(name = "1.106")]
    V1_106,
}

impl Release {
    /// The release as `x-litellm-version` names it.
    pub fn version(self) -> &'static str {
        match self {
            Release::V1_83 => "1.83.14",
            Release::V1_106 => "1.106.12",
        }
    }
}
