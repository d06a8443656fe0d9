// DuckDB is loaded with dlopen on first use, not linked: a node that only
// runs the p2p protocols never maps libduckdb.so (tens of MB), which keeps an
// idle node's resident memory small.
//
// Include after <duckdb.h>. Every duckdb_* function this file's includer
// calls must be listed below: the macro routes the call through a pointer
// resolved once per call site.
#pragma once

#include <string>

#include "common/result.h"

namespace syndb::warehouse {

// Loads libduckdb.so (SYNDB_DUCKDB_LIBRARY, or $SYNDB_DUCKDB_LIBRARY when set)
// once. kUnsupported with dlerror()'s text when it cannot be loaded.
Status load_duckdb();
// The address of a DuckDB C API function; aborts with a message naming the
// symbol when it is missing (a libduckdb.so older than duckdb.h). Call
// load_duckdb() first.
void* duckdb_symbol(const char* name);

}  // namespace syndb::warehouse

#define SYNDB_DUCKDB_CALL(f) \
  ([] { static auto p = reinterpret_cast<decltype(&::f)>(::syndb::warehouse::duckdb_symbol(#f)); return p; }())

#define duckdb_append_bool SYNDB_DUCKDB_CALL(duckdb_append_bool)
#define duckdb_arrow_scan SYNDB_DUCKDB_CALL(duckdb_arrow_scan)
#define duckdb_append_double SYNDB_DUCKDB_CALL(duckdb_append_double)
#define duckdb_append_int64 SYNDB_DUCKDB_CALL(duckdb_append_int64)
#define duckdb_append_null SYNDB_DUCKDB_CALL(duckdb_append_null)
#define duckdb_append_varchar_length SYNDB_DUCKDB_CALL(duckdb_append_varchar_length)
#define duckdb_appender_close SYNDB_DUCKDB_CALL(duckdb_appender_close)
#define duckdb_appender_create SYNDB_DUCKDB_CALL(duckdb_appender_create)
#define duckdb_appender_destroy SYNDB_DUCKDB_CALL(duckdb_appender_destroy)
#define duckdb_appender_end_row SYNDB_DUCKDB_CALL(duckdb_appender_end_row)
#define duckdb_appender_error SYNDB_DUCKDB_CALL(duckdb_appender_error)
#define duckdb_close SYNDB_DUCKDB_CALL(duckdb_close)
#define duckdb_column_count SYNDB_DUCKDB_CALL(duckdb_column_count)
#define duckdb_column_logical_type SYNDB_DUCKDB_CALL(duckdb_column_logical_type)
#define duckdb_column_name SYNDB_DUCKDB_CALL(duckdb_column_name)
#define duckdb_connect SYNDB_DUCKDB_CALL(duckdb_connect)
#define duckdb_create_config SYNDB_DUCKDB_CALL(duckdb_create_config)
#define duckdb_data_chunk_get_size SYNDB_DUCKDB_CALL(duckdb_data_chunk_get_size)
#define duckdb_data_chunk_get_vector SYNDB_DUCKDB_CALL(duckdb_data_chunk_get_vector)
#define duckdb_data_chunk_to_arrow SYNDB_DUCKDB_CALL(duckdb_data_chunk_to_arrow)
#define duckdb_destroy_arrow_options SYNDB_DUCKDB_CALL(duckdb_destroy_arrow_options)
#define duckdb_destroy_config SYNDB_DUCKDB_CALL(duckdb_destroy_config)
#define duckdb_destroy_data_chunk SYNDB_DUCKDB_CALL(duckdb_destroy_data_chunk)
#define duckdb_destroy_error_data SYNDB_DUCKDB_CALL(duckdb_destroy_error_data)
#define duckdb_destroy_logical_type SYNDB_DUCKDB_CALL(duckdb_destroy_logical_type)
#define duckdb_destroy_prepare SYNDB_DUCKDB_CALL(duckdb_destroy_prepare)
#define duckdb_destroy_result SYNDB_DUCKDB_CALL(duckdb_destroy_result)
#define duckdb_disconnect SYNDB_DUCKDB_CALL(duckdb_disconnect)
#define duckdb_error_data_message SYNDB_DUCKDB_CALL(duckdb_error_data_message)
#define duckdb_execute_prepared_streaming SYNDB_DUCKDB_CALL(duckdb_execute_prepared_streaming)
#define duckdb_fetch_chunk SYNDB_DUCKDB_CALL(duckdb_fetch_chunk)
#define duckdb_free SYNDB_DUCKDB_CALL(duckdb_free)
#define duckdb_open_ext SYNDB_DUCKDB_CALL(duckdb_open_ext)
#define duckdb_prepare SYNDB_DUCKDB_CALL(duckdb_prepare)
#define duckdb_prepare_error SYNDB_DUCKDB_CALL(duckdb_prepare_error)
#define duckdb_query SYNDB_DUCKDB_CALL(duckdb_query)
#define duckdb_result_error SYNDB_DUCKDB_CALL(duckdb_result_error)
#define duckdb_result_get_arrow_options SYNDB_DUCKDB_CALL(duckdb_result_get_arrow_options)
#define duckdb_set_config SYNDB_DUCKDB_CALL(duckdb_set_config)
#define duckdb_string_t_data SYNDB_DUCKDB_CALL(duckdb_string_t_data)
#define duckdb_string_t_length SYNDB_DUCKDB_CALL(duckdb_string_t_length)
#define duckdb_to_arrow_schema SYNDB_DUCKDB_CALL(duckdb_to_arrow_schema)
#define duckdb_validity_row_is_valid SYNDB_DUCKDB_CALL(duckdb_validity_row_is_valid)
#define duckdb_vector_get_data SYNDB_DUCKDB_CALL(duckdb_vector_get_data)
#define duckdb_vector_get_validity SYNDB_DUCKDB_CALL(duckdb_vector_get_validity)
#define duckdb_connection_get_arrow_options SYNDB_DUCKDB_CALL(duckdb_connection_get_arrow_options)
#define duckdb_destroy_extracted SYNDB_DUCKDB_CALL(duckdb_destroy_extracted)
#define duckdb_extract_statements SYNDB_DUCKDB_CALL(duckdb_extract_statements)
#define duckdb_extract_statements_error SYNDB_DUCKDB_CALL(duckdb_extract_statements_error)
#define duckdb_interrupt SYNDB_DUCKDB_CALL(duckdb_interrupt)
#define duckdb_prepare_extracted_statement SYNDB_DUCKDB_CALL(duckdb_prepare_extracted_statement)
#define duckdb_prepared_statement_column_count SYNDB_DUCKDB_CALL(duckdb_prepared_statement_column_count)
#define duckdb_prepared_statement_column_logical_type SYNDB_DUCKDB_CALL(duckdb_prepared_statement_column_logical_type)
#define duckdb_prepared_statement_column_name SYNDB_DUCKDB_CALL(duckdb_prepared_statement_column_name)
#define duckdb_prepared_statement_type SYNDB_DUCKDB_CALL(duckdb_prepared_statement_type)
#define duckdb_create_table_function SYNDB_DUCKDB_CALL(duckdb_create_table_function)
#define duckdb_destroy_table_function SYNDB_DUCKDB_CALL(duckdb_destroy_table_function)
#define duckdb_table_function_set_name SYNDB_DUCKDB_CALL(duckdb_table_function_set_name)
#define duckdb_table_function_add_parameter SYNDB_DUCKDB_CALL(duckdb_table_function_add_parameter)
#define duckdb_table_function_set_extra_info SYNDB_DUCKDB_CALL(duckdb_table_function_set_extra_info)
#define duckdb_table_function_set_bind SYNDB_DUCKDB_CALL(duckdb_table_function_set_bind)
#define duckdb_table_function_set_init SYNDB_DUCKDB_CALL(duckdb_table_function_set_init)
#define duckdb_table_function_set_function SYNDB_DUCKDB_CALL(duckdb_table_function_set_function)
#define duckdb_table_function_supports_projection_pushdown SYNDB_DUCKDB_CALL(duckdb_table_function_supports_projection_pushdown)
#define duckdb_register_table_function SYNDB_DUCKDB_CALL(duckdb_register_table_function)
#define duckdb_create_logical_type SYNDB_DUCKDB_CALL(duckdb_create_logical_type)
#define duckdb_bind_get_parameter SYNDB_DUCKDB_CALL(duckdb_bind_get_parameter)
#define duckdb_get_varchar SYNDB_DUCKDB_CALL(duckdb_get_varchar)
#define duckdb_destroy_value SYNDB_DUCKDB_CALL(duckdb_destroy_value)
#define duckdb_bind_add_result_column SYNDB_DUCKDB_CALL(duckdb_bind_add_result_column)
#define duckdb_bind_set_bind_data SYNDB_DUCKDB_CALL(duckdb_bind_set_bind_data)
#define duckdb_bind_set_error SYNDB_DUCKDB_CALL(duckdb_bind_set_error)
#define duckdb_bind_get_extra_info SYNDB_DUCKDB_CALL(duckdb_bind_get_extra_info)
#define duckdb_init_set_max_threads SYNDB_DUCKDB_CALL(duckdb_init_set_max_threads)
#define duckdb_init_get_bind_data SYNDB_DUCKDB_CALL(duckdb_init_get_bind_data)
#define duckdb_init_set_error SYNDB_DUCKDB_CALL(duckdb_init_set_error)
#define duckdb_function_get_bind_data SYNDB_DUCKDB_CALL(duckdb_function_get_bind_data)
#define duckdb_function_set_error SYNDB_DUCKDB_CALL(duckdb_function_set_error)
#define duckdb_data_chunk_set_size SYNDB_DUCKDB_CALL(duckdb_data_chunk_set_size)
#define duckdb_data_chunk_from_arrow SYNDB_DUCKDB_CALL(duckdb_data_chunk_from_arrow)
#define duckdb_schema_from_arrow SYNDB_DUCKDB_CALL(duckdb_schema_from_arrow)
#define duckdb_destroy_arrow_converted_schema SYNDB_DUCKDB_CALL(duckdb_destroy_arrow_converted_schema)
#define duckdb_vector_reference_vector SYNDB_DUCKDB_CALL(duckdb_vector_reference_vector)
#define duckdb_slice_vector SYNDB_DUCKDB_CALL(duckdb_slice_vector)
#define duckdb_create_selection_vector SYNDB_DUCKDB_CALL(duckdb_create_selection_vector)
#define duckdb_destroy_selection_vector SYNDB_DUCKDB_CALL(duckdb_destroy_selection_vector)
#define duckdb_selection_vector_get_data_ptr SYNDB_DUCKDB_CALL(duckdb_selection_vector_get_data_ptr)
#define duckdb_vector_size SYNDB_DUCKDB_CALL(duckdb_vector_size)
#define duckdb_execute_prepared SYNDB_DUCKDB_CALL(duckdb_execute_prepared)
