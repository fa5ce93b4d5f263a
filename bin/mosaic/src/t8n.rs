//! `mosaic t8n`.
#[derive(Debug, clap::Args)]
pub(crate) struct T8nArgs {}
pub(crate) fn run(_a: &T8nArgs) -> eyre::Result<bool> {
    eyre::bail!("todo")
}
