# sql/local.mk: the migrations, in order. Add new ones at the end; never
# edit one that has been released. They are compiled into lib/libmtdb.a.
MIGRATIONS = \
	sql/001_init.sql \
	sql/002_servers_searches.sql \
	sql/004_download_states.sql \
	sql/005_history_events.sql \
	sql/006_rollups_reporting.sql \
	sql/007_status_lag.sql \
	sql/008_shared_files.sql \
	sql/009_download_attrs.sql \
	sql/010_web_auth.sql \
	sql/011_qbit.sql \
	sql/012_history_download_id.sql \
	sql/013_download_btih.sql \
	sql/014_natural_sort.sql \
	sql/015_share_stopped.sql \
	sql/016_download_limits_tags.sql \
	sql/017_search_result_origins.sql \
	sql/018_rollups_by_time.sql \
	sql/019_sync_maindata.sql \
	sql/020_web_state.sql \
	sql/021_web_users.sql \
	sql/022_samples_by_time.sql \
	sql/023_history_search.sql \
	sql/024_history_counts.sql \
	sql/025_search_results_recent.sql \
	sql/026_download_owners.sql \
	sql/027_metrics_changes.sql \
	sql/028_history_counts_category.sql \
	sql/029_history_changes.sql \
	sql/030_rollups_time_covering.sql \
	sql/031_file_ratings.sql \
	sql/032_download_change_log.sql \
	sql/033_kad_status.sql \
	sql/034_commands.sql \
	sql/035_port_forwarding.sql \
	sql/036_node_free_space.sql

EXTRA_DIST += $(MIGRATIONS) build-aux/embed-sql.sh
