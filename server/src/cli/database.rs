//! Where `curfewd`'s commands find their database: `--database-url`, `CURFEW_DATABASE_URL`,
//! or `curfew.db` in the platform data directory.

use anyhow::Context;
use clap::Args;

use crate::store::Store;

#[derive(Args)]
pub(super) struct Database {
    /// sqlite://PATH (default: curfew.db in the platform data directory) or postgres://…
    #[arg(long, env = "CURFEW_DATABASE_URL")]
    pub(super) database_url: Option<String>,
}

impl Database {
    pub(super) fn url(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        let dirs = directories::ProjectDirs::from("dev", "curfew", "curfewd")
            .context("cannot find a data directory for this user; pass --database-url")?;
        Ok(format!(
            "sqlite://{}",
            dirs.data_dir().join("curfew.db").display()
        ))
    }

    pub(super) async fn open(&self, max_connections: u32) -> anyhow::Result<Store> {
        Store::connect(&self.url()?, max_connections).await
    }
}
