//! The library half: the generated module, private, used for one thing.

#[rustfmt::skip]
mod db {
    include!(concat!(env!("OUT_DIR"), "/dyngen/rust/dyngen.rs"));
}

/// The titles of an author's notes.
pub async fn titles(client: aws_config::SdkConfig, author: &str) -> Result<Vec<String>, dyngen_runtime::Error> {
    let db = db::Db::new(dyngen_runtime::aws_sdk_dynamodb::Client::new(&client));
    let notes = db.notes_of(author).all().await?;
    Ok(notes.into_iter().map(|n| n.title).collect())
}
