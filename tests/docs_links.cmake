# Every reference to the docs must resolve, inside the repository.
#
#   cmake -DROOT=<source dir> -P tests/docs_links.cmake      check the tree (CTest: docs_links)
#   cmake -DSELFTEST=ON -DWORK=<dir> -P tests/docs_links.cmake
#                                  check the checker on a small broken and a small sound tree
#
# In every source, script and Markdown file (build trees and hidden folders skipped) it fails on
#   - a path docs/... that does not exist;
#   - "docs/X.md section N" (or "sections N, M", "§N") where X.md has no heading "## N." or
#     "### N.M" (so the section numbers code comments cite stay put);
#   - a relative Markdown link [..](path) whose target does not exist;
#   - a citation of the background notes that are not in the repository (the names are in
#     kBanned below), since a reader of a clone cannot follow it.
# Comment and string-literal line breaks are joined first, so a reference may wrap.
cmake_minimum_required(VERSION 3.25)

set(kExtensions cpp hpp h md txt py cmake toml sh)
# The background notes' names, spelled so that this file does not cite them itself.
set(kBanned "(LRA|XFORMERS|RESULTS|ARCHITECTURE|STYLE|ECOSYSTEM)[.]md|[.][.]/shared|shared/peer")

# Files to scan under root, relative to it.
function(collect_files root out)
  file(GLOB top LIST_DIRECTORIES true RELATIVE ${root} ${root}/*)
  set(files "")
  foreach(entry ${top})
    if(entry MATCHES "^[.]" OR EXISTS ${root}/${entry}/CMakeCache.txt)
      continue()  # .git, editor folders, build trees
    endif()
    if(IS_DIRECTORY ${root}/${entry})
      set(globs "")
      foreach(ext ${kExtensions})
        list(APPEND globs ${root}/${entry}/*.${ext})
      endforeach()
      file(GLOB_RECURSE found LIST_DIRECTORIES false RELATIVE ${root} ${globs})
      list(APPEND files ${found})
    else()
      foreach(ext ${kExtensions})
        if(entry MATCHES "[.]${ext}$")
          list(APPEND files ${entry})
        endif()
      endforeach()
    endif()
  endforeach()
  set(${out} ${files} PARENT_SCOPE)
endfunction()

# True when docs file `doc` (relative to root) has a heading numbered `number` ("3", "3.5").
function(has_section root doc number out)
  string(REPLACE "." "[.]" pattern "${number}")
  file(STRINGS ${root}/${doc} headings REGEX "^#+ ${pattern}[.]? ")
  if(headings)
    set(${out} TRUE PARENT_SCOPE)
  else()
    set(${out} FALSE PARENT_SCOPE)
  endif()
endfunction()

# Checks one tree; sets `errors` in the caller to the list of problems (empty: sound).
function(check_tree root self)
  collect_files(${root} files)
  set(problems "")
  foreach(rel ${files})
    if(rel STREQUAL self)
      continue()  # the checker's own patterns and fixtures
    endif()
    file(READ ${root}/${rel} text)
    # Join wrapped references: "..." "..." string literals, // and # comment continuations.
    string(REGEX REPLACE "\"[ \t]*\n[ \t]*\"" "" text "${text}")
    string(REGEX REPLACE "\n[ \t]*(//|#)?[ \t]*" " " text "${text}")
    # List-safe: no ';' and no brackets (CMake lists balance [ ]); a link "](" becomes "<>(".
    string(REPLACE ";" " " text "${text}")
    string(REPLACE "](" "<>(" text "${text}")
    string(REPLACE "[" " " text "${text}")
    string(REPLACE "]" " " text "${text}")

    string(REGEX MATCHALL "${kBanned}" banned "${text}")
    foreach(name ${banned})
      list(APPEND problems "${rel}: cites ${name}, which is not in the repository: cite docs/ instead")
    endforeach()

    # docs/ paths (files or folders).
    string(REGEX MATCHALL "(^|[^A-Za-z0-9_./:-])docs/[A-Za-z0-9_./-]*" paths "${text}")
    foreach(path ${paths})
      string(REGEX REPLACE "^[^d]" "" path "${path}")  # the character before docs/
      string(REGEX REPLACE "[.]+$" "" path "${path}")
      if(NOT EXISTS ${root}/${path})
        list(APPEND problems "${rel}: ${path} does not exist")
      endif()
    endforeach()

    # Section references: docs/X.md section N / sections N, M and K / §N.
    string(REGEX MATCHALL
           "docs/[A-Za-z0-9_/-]+[.]md,? (section|sections|§) ?[0-9][0-9.]*((, and |, | and )[0-9][0-9.]*)*"
           refs "${text}")
    foreach(ref ${refs})
      string(REGEX MATCH "^docs/[A-Za-z0-9_/-]+[.]md" doc "${ref}")
      string(LENGTH "${doc}" skip)
      string(SUBSTRING "${ref}" ${skip} -1 numbers_text)
      string(REGEX MATCHALL "[0-9]+([.][0-9]+)*" numbers "${numbers_text}")
      if(NOT EXISTS ${root}/${doc})
        continue()  # reported above
      endif()
      foreach(number ${numbers})
        has_section(${root} ${doc} ${number} found)
        if(NOT found)
          list(APPEND problems "${rel}: ${doc} has no section ${number}")
        endif()
      endforeach()
    endforeach()

    # Relative Markdown links.
    if(rel MATCHES "[.]md$")
      get_filename_component(dir ${rel} DIRECTORY)
      string(REGEX MATCHALL "<>\\([^)( ]+\\)" links "${text}")
      foreach(link ${links})
        string(REGEX REPLACE "^<>\\(([^)#]*).*$" "\\1" target "${link}")
        if(target STREQUAL "" OR target MATCHES "^[a-z]+:")
          continue()  # same-page anchor, http:, mailto:
        endif()
        if(dir)
          set(target "${dir}/${target}")
        endif()
        if(NOT EXISTS ${root}/${target})
          list(APPEND problems "${rel}: link to ${target}, which does not exist")
        endif()
      endforeach()
    endif()
  endforeach()
  list(LENGTH files count)
  set(errors ${problems} PARENT_SCOPE)
  set(scanned ${count} PARENT_SCOPE)
endfunction()

if(SELFTEST)
  # A broken tree must give exactly the expected complaints; a sound one none.
  set(tree ${WORK}/docs_links_selftest)
  file(REMOVE_RECURSE ${tree})
  file(WRITE ${tree}/docs/guide.md "# Guide\n\n## 1. One\n\n### 1.2 Sub\n\n[ok](guide.md) [bad](gone.png)\n")
  file(WRITE ${tree}/src/good.cpp "// see docs/guide.md section 1 and docs/guide.md\n// sections 1.2\n")
  file(WRITE ${tree}/src/bad.cpp
       "// docs/guide.md section 2, docs/guide.md §1.3, docs/nothing.md\n// from ../shared/LRA.md\n"
       "const char* s = \"(XFORMERS.md \"\n    \"0)\";\n")
  check_tree(${tree} "")
  set(expected
      "docs/guide.md: link to docs/gone.png, which does not exist"
      "src/bad.cpp: cites ../shared, which is not in the repository: cite docs/ instead"
      "src/bad.cpp: cites LRA.md, which is not in the repository: cite docs/ instead"
      "src/bad.cpp: cites XFORMERS.md, which is not in the repository: cite docs/ instead"
      "src/bad.cpp: docs/nothing.md does not exist"
      "src/bad.cpp: docs/guide.md has no section 2"
      "src/bad.cpp: docs/guide.md has no section 1.3")
  list(SORT errors)
  list(SORT expected)
  if(NOT errors STREQUAL expected)
    string(REPLACE ";" "\n  " got "${errors}")
    message(FATAL_ERROR "selftest: the checker reported\n  ${got}")
  endif()
  file(REMOVE ${tree}/src/bad.cpp)
  file(WRITE ${tree}/docs/guide.md "# Guide\n\n## 1. One\n\n### 1.2 Sub\n\n[ok](guide.md)\n")
  check_tree(${tree} "")
  if(errors)
    message(FATAL_ERROR "selftest: a sound tree gave ${errors}")
  endif()
  file(REMOVE_RECURSE ${tree})
  message(STATUS "docs links selftest: broken tree caught, sound tree passed")
  return()
endif()

check_tree(${ROOT} "tests/docs_links.cmake")
if(errors)
  list(LENGTH errors n)
  string(REPLACE ";" "\n  " text "${errors}")
  message(FATAL_ERROR "${n} broken docs reference(s):\n  ${text}")
endif()
message(STATUS "docs links: ${scanned} files, every docs/ reference resolves")
