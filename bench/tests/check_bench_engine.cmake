# Runs a small `plinth bench engine` on the CPU backend (2 concurrent sequences of 16 tokens, 4
# requests sharing a 64-token prompt, the KV memory). The step budget of 64 tokens admits the
# requests over several steps: a block joins the prefix cache once its KV is computed, so requests
# admitted in the same step as the first one would all compute the shared prompt. and checks that it exits 0, prints every table, that the prefix
# cache really saved prefill work, and that the JSON report agrees. Timings are never checked.
# Inputs: -DPLINTH=<exe> -DPLUGIN=<cpu plugin> -DWORK_DIR=<dir>.
set(json "${WORK_DIR}/bench_engine_tiny.json")
file(REMOVE "${json}")
execute_process(
  COMMAND "${PLINTH}" bench engine --device cpu:0 --plugin "${PLUGIN}" --concurrency 2 --prompt 16 --gen 8
          --prefix-requests 4 --shared-prompt 64 --max-batch-tokens 64 --only throughput --only prefix-cache --only memory --json "${json}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "plinth bench engine exited with ${rc}: ${err}")
endif()

function(expect regex what)
  if(NOT out MATCHES "${regex}")
    message(FATAL_ERROR "missing from the output: ${what} (regex: ${regex})")
  endif()
endfunction()
expect("plinth bench engine: [^\n]+ on cpu:0 " "header line")
expect("\n== throughput: prompt 16, generation 8 per sequence" "throughput table")
expect("\n +2 \\| +[0-9.]+ \\| +[0-9.]+ \\|" "throughput row for 2 sequences")
expect("\n== prefix cache: " "prefix-cache table")
expect("\n== KV memory ==\ncache dtype f16, block 16 tokens: [0-9]+ bytes per token" "KV memory line")
if(out MATCHES "chunked prefill")
  message(FATAL_ERROR "--only did not leave the chunked-prefill section out")
endif()

file(READ "${json}" report)
string(JSON rows LENGTH "${report}" throughput)
string(JSON seqs GET "${report}" throughput 0 sequences)
string(JSON rate GET "${report}" throughput 0 generated_tok_per_s)
if(NOT rows EQUAL 1 OR NOT seqs EQUAL 2 OR NOT rate GREATER 0)
  message(FATAL_ERROR "JSON throughput rows: ${rows}, sequences ${seqs}, rate ${rate}")
endif()
# Row 0 has the cache off, row 1 on: with it on, the shared prompt's full blocks are computed once, so
# fewer prompt tokens are computed and the hits make up the difference.
string(JSON off_tokens GET "${report}" prefix_cache 0 prefill_tokens)
string(JSON on_tokens GET "${report}" prefix_cache 1 prefill_tokens)
string(JSON on_hits GET "${report}" prefix_cache 1 prefix_hit_tokens)
if(NOT on_tokens LESS off_tokens OR NOT on_hits GREATER 0)
  message(FATAL_ERROR "prefix cache saved nothing: ${off_tokens} tokens off, ${on_tokens} on, ${on_hits} hits")
endif()
string(JSON per_token GET "${report}" memory bytes_per_token)
if(NOT per_token GREATER 0)
  message(FATAL_ERROR "JSON memory.bytes_per_token is ${per_token}")
endif()
