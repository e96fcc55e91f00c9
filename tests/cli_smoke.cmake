# End-to-end CLI check run by ctest: the real binary on data the generator makes.
# -DANIMERUN=<binary> -DWORK=<scratch folder>
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
function(run_ok)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()
function(run_fails)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "expected failure: ${ARGN}\n${out}\n${err}")
  endif()
endfunction()
run_ok(${ANIMERUN} --help)
run_fails(${ANIMERUN} no-such-command)

# synth: the exact v2 layout, and bad options refused.
run_ok(${ANIMERUN} synth --out ${WORK}/syn --scenes 1 --frames 3 --size 160x96 --seed 5 --quiet)
foreach(f Frame_Anime/synth_000/original/Image0000.png Frame_Anime/synth_000/color_1/Image0002.png
          contour/synth_000/Image0001.png Flow/synth_000/forward/Image0000.flo Flow/synth_000/backward/Image0002.flo
          Segment/synth_000/Image0002.npy SegMatching/synth_000/forward/Image0001.json
          SegMatching/synth_000/backward/Image0001.json UnmatchedForward/synth_000/Image0000.npy
          LineArea/synth_000/Image0001.npy)
  if(NOT EXISTS ${WORK}/syn/test/${f})
    message(FATAL_ERROR "synth: missing ${f}")
  endif()
endforeach()
run_fails(${ANIMERUN} synth --out ${WORK}/synth_bad --frames 1)

# eval-flow / eval-match with the ground truth as predictions: perfect scores.
run_ok(${ANIMERUN} eval-flow --data ${WORK}/syn --pred ${WORK}/syn/test/Flow --json ${WORK}/eval_flow.json)
file(READ ${WORK}/eval_flow.json j)
string(JSON epe GET "${j}" epe)
if(NOT epe MATCHES "^0(\\.0*)?$")
  message(FATAL_ERROR "eval-flow GT vs GT: epe ${epe}")
endif()
run_ok(${ANIMERUN} eval-match --data ${WORK}/syn --pred ${WORK}/syn/test/SegMatching --json ${WORK}/eval_match.json)
file(READ ${WORK}/eval_match.json j)
string(JSON acc GET "${j}" acc)
if(NOT acc MATCHES "^1(\\.0*)?$")
  message(FATAL_ERROR "eval-match GT vs GT: acc ${acc}")
endif()
run_ok(${ANIMERUN} viz-flow ${WORK}/syn/test/Flow/synth_000/forward/Image0000.flo -o ${WORK}/viz.png --arrows)
if(NOT EXISTS ${WORK}/viz.png)
  message(FATAL_ERROR "viz-flow wrote nothing")
endif()
run_fails(${ANIMERUN} eval-flow --data ${WORK}/syn --pred ${WORK}/no_such_dir)
run_fails(${ANIMERUN} viz-flow ${WORK}/no_such.flo -o ${WORK}/x.png)

# A network end to end: `flow` on two frames and `eval-flow --model` with saved predictions,
# whose prediction-folder evaluation must give the same EPE.
if(EXISTS ${GOLDEN}/raft-small/raft-small.pth)
  set(W ${GOLDEN}/raft-small/raft-small.pth)
  set(F ${WORK}/syn/test/Frame_Anime/synth_000/original)
  run_ok(${ANIMERUN} flow --model raft-small --weights ${W} --iters 2 ${F}/Image0000.png ${F}/Image0001.png
         -o ${WORK}/pred.flo --viz ${WORK}/pred.png)
  if(NOT EXISTS ${WORK}/pred.flo OR NOT EXISTS ${WORK}/pred.png)
    message(FATAL_ERROR "flow wrote nothing")
  endif()
  run_ok(${ANIMERUN} eval-flow --data ${WORK}/syn --model raft-small --weights ${W} --iters 2
         --save-pred ${WORK}/saved --json ${WORK}/eval_model.json)
  run_ok(${ANIMERUN} eval-flow --data ${WORK}/syn --pred ${WORK}/saved --json ${WORK}/eval_saved.json)
  file(READ ${WORK}/eval_model.json a)
  file(READ ${WORK}/eval_saved.json b)
  string(JSON ea GET "${a}" epe)
  string(JSON eb GET "${b}" epe)
  if(NOT ea STREQUAL eb)
    message(FATAL_ERROR "eval-flow --model (${ea}) and --pred of its saved predictions (${eb}) differ")
  endif()
  run_fails(${ANIMERUN} flow --model raft --weights ${W} ${F}/Image0000.png ${F}/Image0001.png -o ${WORK}/x.flo)
else()
  message(STATUS "golden fixtures absent: network CLI checks skipped")
endif()
