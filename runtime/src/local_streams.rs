//! A table's stream on DynamoDB Local, read as a Lambda function would receive it: real
//! records for testing stream handlers (feature `local-streams`).

use aws_lambda_events::event::dynamodb::{EventRecord, StreamViewType, UserIdentity};
use aws_sdk_dynamodbstreams::config::BehaviorVersion;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};

use crate::local::{DynamoDbLocal, LocalError};
use crate::stream::Event;

fn failed(what: &str, e: impl std::fmt::Debug) -> LocalError {
    LocalError(format!("reading the stream: {what} failed: {e:?}"))
}

impl DynamoDbLocal {
    /// Every record on `table`'s stream so far, oldest first within each shard, as one
    /// Lambda event. The table must have a stream.
    pub async fn stream_event(&self, table: &str) -> Result<Event, LocalError> {
        self.stream_event_with(table, |b| b).await
    }

    /// [`DynamoDbLocal::stream_event`] with a Streams client configured further, e.g. with
    /// an interceptor.
    pub async fn stream_event_with(
        &self,
        table: &str,
        configure: impl FnOnce(
            aws_sdk_dynamodbstreams::config::Builder,
        ) -> aws_sdk_dynamodbstreams::config::Builder,
    ) -> Result<Event, LocalError> {
        let (region, credentials) = self.region_and_credentials();
        let builder = aws_sdk_dynamodbstreams::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(region)
            .endpoint_url(self.endpoint())
            .credentials_provider(credentials);
        let client = aws_sdk_dynamodbstreams::Client::from_conf(configure(builder).build());
        let listed = client
            .list_streams()
            .table_name(table)
            .send()
            .await
            .map_err(|e| failed("ListStreams", e))?;
        let Some(arn) = listed.streams().first().and_then(|s| s.stream_arn()) else {
            return Err(LocalError(format!("table `{table}` has no stream")));
        };
        let described = client
            .describe_stream()
            .stream_arn(arn)
            .send()
            .await
            .map_err(|e| failed("DescribeStream", e))?;
        let shards = described
            .stream_description()
            .map(|d| d.shards().to_vec())
            .unwrap_or_default();
        let mut event = Event::default();
        for shard in shards {
            let mut iterator = client
                .get_shard_iterator()
                .stream_arn(arn)
                .set_shard_id(shard.shard_id().map(str::to_string))
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .map_err(|e| failed("GetShardIterator", e))?
                .shard_iterator()
                .map(str::to_string);
            // An open shard always returns a next iterator: stop at the first empty page.
            while let Some(it) = iterator {
                let page = client
                    .get_records()
                    .shard_iterator(it)
                    .send()
                    .await
                    .map_err(|e| failed("GetRecords", e))?;
                if page.records().is_empty() {
                    break;
                }
                event
                    .records
                    .extend(page.records().iter().map(event_record));
                iterator = page.next_shard_iterator().map(str::to_string);
            }
        }
        Ok(event)
    }
}

/// A Streams API record in the shape Lambda delivers it.
fn event_record(r: &Record) -> EventRecord {
    let mut out = EventRecord::default();
    out.event_id = r.event_id().unwrap_or_default().to_string();
    out.event_name = r
        .event_name()
        .map(|n| n.as_str().to_string())
        .unwrap_or_default();
    out.event_source = r.event_source().map(str::to_string);
    out.event_version = r.event_version().map(str::to_string);
    out.aws_region = r.aws_region().unwrap_or_default().to_string();
    out.user_identity = r.user_identity().map(|u| {
        let mut identity = UserIdentity::default();
        identity.type_ = u.r#type().unwrap_or_default().to_string();
        identity.principal_id = u.principal_id().unwrap_or_default().to_string();
        identity
    });
    if let Some(d) = r.dynamodb() {
        let change = &mut out.change;
        change.keys = d.keys().cloned().unwrap_or_default().into();
        change.new_image = d.new_image().cloned().unwrap_or_default().into();
        change.old_image = d.old_image().cloned().unwrap_or_default().into();
        change.sequence_number = d.sequence_number().map(str::to_string);
        change.size_bytes = d.size_bytes().unwrap_or_default();
        change.stream_view_type = d.stream_view_type().and_then(|v| match v.as_str() {
            "NEW_IMAGE" => Some(StreamViewType::NewImage),
            "OLD_IMAGE" => Some(StreamViewType::OldImage),
            "NEW_AND_OLD_IMAGES" => Some(StreamViewType::NewAndOldImages),
            "KEYS_ONLY" => Some(StreamViewType::KeysOnly),
            _ => None,
        });
        if let Some(at) = d
            .approximate_creation_date_time()
            .and_then(|t| chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
        {
            change.approximate_creation_date_time = at;
        }
    }
    out
}
